#!/usr/bin/env bash
# make bench-large (not part of make bench): the index and the latency table at 10M records.
# Writes the "large" section of docs/PERFORMANCE.md.
#   Logs of 10k, 1M and 10M records over 365 days (scripts/gen-records.sh, fixed seed and end) are
#   made once and kept in .build/bench-large/, each under a stamp of the generator's parameters and
#   a hash of gen-records.sh; a later run reuses them. Per log: disk size per record, index size,
#   `index --rebuild` time and peak memory; then every query of the latency table of
#   scripts/bench-index.sh, with the growth 10k → 10M against its target (≤ 1.5×).
#   RUNS (default 21): runs per query (medians). BIN: measure that spendlog binary instead of
#   this tree's release build.
set -euo pipefail
cd "$(dirname "$0")/.."
export SPENDLOG_FAST_START=1  # the release build the Makefile makes (Package.swift)
if [ -z "${BIN:-}" ]; then
    swift build -c release --static-swift-stdlib --product spendlog >/dev/null
    BIN=$PWD/.build/release/spendlog
fi
THREADS=${THREADS:-$(nproc)}
RUNS=${RUNS:-21}
CACHE=$PWD/.build/bench-large
DAYS=365
SEED=7
END=1795392000  # 2026-11-23T00:00:00Z: fixed, so every run indexes the same records
CHUNK=1000000   # records per `ingest`: the 10M log is generated as one stream, ingested a chunk at a time
source scripts/timing.sh
mkdir -p "$CACHE"

# cached_log NAME RECORDS — prints the folder of a sealed log of RECORDS records, made unless the
# cache holds one made with the same parameters and the same generator. A log is made by one
# gen-records.sh stream cut into CHUNK-record ingests (`split --filter`: no temporary file), then
# sealed; the stamp, written last, keeps the parameters and how long making the log took.
cached_log() {
    local name=$1 n=$2
    local params key dir
    # seal=: the layout of sealed segments (zstd frames of about 512 KiB of text each, ending at line
    # ends); a log sealed another way is made again.
    params="records=$n days=$DAYS seed=$SEED end=$END ordered=1 gen-records.sh=$(sha256sum scripts/gen-records.sh | cut -c1-16) seal=frames-512KiB"
    key=$(printf '%s' "$params" | sha256sum | cut -c1-12)
    dir=$CACHE/$name-$key
    if [ ! -f "$dir/stamp" ]; then
        rm -rf "$CACHE/$name"-*
        mkdir -p "$dir"
        echo "making the $name log ($params) in $dir" >&2
        local start
        start=$(now_ms)
        ORDERED=1 scripts/gen-records.sh "$n" "$DAYS" "$SEED" "$END" \
            | split -l "$CHUNK" --filter="'$BIN' ingest --dir '$dir/log' --fsync none - >/dev/null"
        "$BIN" seal --dir "$dir/log"
        printf '%s\nmade_ms=%d\n' "$params" "$(( $(now_ms) - start ))" > "$dir/stamp"
    fi
    echo "$dir"
}

bytes_of() { find "$@" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d", s}'; }
per_record() { awk -v a="$1" -v n="$2" 'BEGIN { printf "%.1f", a / n }'; }
mib() { awk -v a="$1" 'BEGIN { printf "%.1f", a / 1048576 }'; }

declare -A COUNT=([10k]=10000 [1m]=1000000 [10m]=10000000)
SIZES=(10k 1m 10m)
declare -A LOG MADE ZST JSON SEGMENTS INDEX_MS RSS INDEX_BYTES CORE_DAY
for s in "${SIZES[@]}"; do
    dir=$(cached_log "$s" "${COUNT[$s]}")
    LOG[$s]=$dir/log
    MADE[$s]=$(sed -n 's/^made_ms=//p' "$dir/stamp")
    ZST[$s]=$(bytes_of "${LOG[$s]}"/segments -name '*.zst')
    SEGMENTS[$s]=$(find "${LOG[$s]}"/segments -type f -name '*.zst' | wc -l)
    JSON[$s]=$(find "${LOG[$s]}"/segments -type f -name '*.zst' -print0 | xargs -0 zstd -q -d -c | wc -c)
    echo "== $s: index --rebuild" >&2
    INDEX_MS[$s]=$(median_ms 3 "$BIN" index --dir "${LOG[$s]}" --rebuild --threads "$THREADS")
    RSS[$s]=$(/usr/bin/time -f '%M' "$BIN" index --dir "${LOG[$s]}" --rebuild 2>&1 >/dev/null | tail -1)  # KiB
    generation=$(readlink -f "${LOG[$s]}/index")/$(cat "${LOG[$s]}/index/CURRENT")
    INDEX_BYTES[$s]=$(bytes_of "$generation")
    CORE_DAY[$s]=$(bytes_of "$generation"/core.day.*.roll)
done

query_row() {  # query_row LABEL ARGS...
    local label=$1; shift
    local a b c growth met
    echo "== stats $label" >&2
    a=$(median_ms "$RUNS" "$BIN" stats --dir "${LOG[10k]}" "$@")
    b=$(median_ms "$RUNS" "$BIN" stats --dir "${LOG[1m]}" "$@")
    c=$(median_ms "$RUNS" "$BIN" stats --dir "${LOG[10m]}" "$@")
    growth=$(ratio "$c" "$((a > 0 ? a : 1))")
    met=no; awk -v g="$growth" 'BEGIN { exit !(g <= 1.5) }' && met=yes
    if awk -v g="$growth" -v w="$WORST_GROWTH" 'BEGIN { exit !(g > w) }'; then
        WORST_GROWTH=$growth; WORST_QUERY="stats $label"; WORST_10K_MS=$a; WORST_10M_MS=$c
    fi
    printf '| `stats %s` | %d ms | %d ms | %d ms | %s | %s |\n' "$label" "$a" "$b" "$c" "$growth" "$met"
}

WORST_GROWTH=0; WORST_QUERY=""; WORST_10K_MS=0; WORST_10M_MS=0
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spendlog-bench-large.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
out=$WORK/section.md
{
    echo "## Large logs: 10M records"
    echo
    echo "Command: \`make bench-large\` (scripts/bench-large.sh; not part of \`make bench\`), release build, medians of 3 runs"
    echo "(index builds) and $RUNS runs (queries), $THREADS threads."
    echo "Machine: $(scripts/machine.sh); load average when the run ended: LOADAVG (wall times"
    echo "stretch with it; the ratios are of the same run)."
    echo
    echo "Data: scripts/gen-records.sh over $DAYS days (seed $SEED, ending $(date -u -d "@$END" +%FT%TZ)), the same"
    echo "generator as the index section, in time order (\`ORDERED=1\`: as writers append records; the index"
    echo "section's records come in random order); each log made once (ingested $CHUNK records at a time with"
    echo "\`--fsync none\`, then sealed) and kept in .build/bench-large/ for later runs. Making the 10M log took"
    echo "$(( MADE[10m] / 1000 )) s (generation, ingest and seal; 1M: $(( MADE[1m] / 1000 )) s)."
    echo
    echo "### Disk and index"
    echo
    echo "| records | sealed segments | .zst bytes per record | JSON bytes per record | index | index bytes per record |"
    echo "|---|---|---|---|---|---|"
    for s in "${SIZES[@]}"; do
        echo "| ${s^^} | ${SEGMENTS[$s]} files, $(mib "${ZST[$s]}") MiB | $(per_record "${ZST[$s]}" "${COUNT[$s]}") | $(per_record "${JSON[$s]}" "${COUNT[$s]}") | $(mib "${INDEX_BYTES[$s]}") MiB | $(per_record "${INDEX_BYTES[$s]}" "${COUNT[$s]}") |"
    done
    echo
    echo "### \`index --rebuild\`"
    echo
    echo "| records | time | peak memory (RSS) |"
    echo "|---|---|---|"
    for s in "${SIZES[@]}"; do
        echo "| ${s^^} | ${INDEX_MS[$s]} ms | $(mib "$((RSS[$s] * 1024))") MiB |"
    done
    echo
    rss_met=no; [ "${RSS[10m]}" -le $((64 * 1024)) ] && rss_met=yes
    echo "Peak memory at 10M / at 1M: $(ratio "${RSS[10m]}" "${RSS[1m]}") (target: flat in the record count); at 10M"
    echo "$(mib "$((RSS[10m] * 1024))") MiB (target ≤ 64 MiB: $rss_met). The days finished are spilled to disk and the"
    echo "day files written as they are merged, and the duplicate check of a day is a filter of a fixed size"
    echo "(an id it cannot tell from those before is settled by reading them again), so what still grows is"
    echo "one day's hour cells per thread (a cell per hour and combination of project, model, provider and"
    echo "status that has records) and the frames of the segments read. The logs span the same 365 days, so a"
    echo "day at 10M holds ten times the records of a day at 1M."
    echo
    echo "### Query latency (whole process, indexed log)"
    echo
    echo "The questions of the index section's latency table. Target: 10M / 10k ≤ 1.5× for each."
    echo
    echo "| query | 10k records | 1M records | 10M records | 10M / 10k | ≤ 1.5× |"
    echo "|---|---|---|---|---|---|"
    for query in "${LATENCY_QUERIES[@]}"; do
        # shellcheck disable=SC2086  # the arguments split on spaces
        query_row "${query%%|*}" ${query#*|}
    done
    echo
    echo "What grows with the records: \`--by day --by model\` sums every cell of the core day files (one per month), one per day ×"
    echo "project × model × provider × status that has records ($(mib "${CORE_DAY[10k]}") MiB at 10k, $(mib "${CORE_DAY[10m]}") MiB at 10M, where every combination"
    echo "has records every day); \`--since 2026-10-15T06:30:00Z\` reads only October's (for the days of"
    echo "October after the 15th), and for the half hour before 07:00 decompresses and scans only the zstd"
    echo "frames of the 15th's segment whose times reach into it (docs/FORMAT.md, \"Frames\"): about 512 KiB of"
    echo "text each, at most a frame or two at any size (the whole segment at 10k: $(( COUNT[10k] / DAYS )) records, one frame;"
    echo "$(( COUNT[10m] / DAYS )) records in 22 frames at 10M)."
} > "$out"
sed -i "s|LOADAVG|$(cut -d' ' -f1-3 /proc/loadavg)|" "$out"
cat "$out"
scripts/perf-section.sh large "$out"
# The figures the targets table (scripts/bench-targets.sh) reads.
mkdir -p .build/bench-results
cat > .build/bench-results/large.env <<ENV
LARGE_WHEN="$(date -u +%Y-%m-%d)"
RSS_1M_KIB=${RSS[1m]}
RSS_10M_KIB=${RSS[10m]}
WORST_QUERY="$WORST_QUERY"
WORST_GROWTH=$WORST_GROWTH
WORST_10K_MS=$WORST_10K_MS
WORST_10M_MS=$WORST_10M_MS
ENV
