#!/usr/bin/env bash
# Index build and query latency. Writes the "index" section of docs/PERFORMANCE.md.
#   1,000,000 records over 90 days (20 projects, 10 models, users, callers, roles, tasks), sealed;
#   full index build next to DuckDB's read_ndjson aggregation and `zstd -d` of the same files,
#   with the same thread count; `stats` latency at 10k, 100k and 1M records.
#   BASELINE=path/to/an/older/spendlog measures that binary in the same run too (build time,
#   peak memory), for a before/after table with ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
export SPENDLOG_FAST_START=1  # the release build the Makefile makes (Package.swift)
swift build -c release --static-swift-stdlib --product spendlog >/dev/null
BIN=$PWD/.build/release/spendlog
PY=$PWD/.venv/bin/python
THREADS=${THREADS:-$(nproc)}
BASELINE_LABEL=${BASELINE_LABEL:-an older build}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spendlog-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
END=1795392000  # 2026-11-24T00:00:00Z: fixed, so every run indexes the same records

source scripts/timing.sh

make_log() {  # make_log NAME RECORDS
    scripts/gen-records.sh "$2" 90 7 "$END" > "$WORK/$1.jsonl"
    "$BIN" ingest --dir "$WORK/$1" "$WORK/$1.jsonl" >/dev/null
    "$BIN" seal --dir "$WORK/$1"
    rm "$WORK/$1.jsonl"
}
for size in 10k:10000 100k:100000 1m:1000000; do make_log "${size%%:*}" "${size##*:}"; done
LOG=$WORK/1m
raw_bytes=$(zstd -d -c "$LOG"/segments/*/*.zst | wc -c)
raw_mb=$((raw_bytes / 1000000))
zst_mb=$(du -cm "$LOG"/segments/*/*.zst | tail -1 | cut -f1)
segments=$(ls "$LOG"/segments/*/*.zst | wc -l)

cat > "$WORK/duck.py" <<PY
import duckdb, sys
con = duckdb.connect()
con.execute("SET threads=$THREADS")
src = "read_ndjson('$LOG/segments/*/*.jsonl.zst', hive_partitioning=true)"
if sys.argv[1] == "simple":
    con.execute(f"SELECT project, model, count(*), sum(cost_usd) FROM {src} GROUP BY ALL").fetchall()
else:
    con.execute(f"""SELECT date_trunc('hour', CAST(ts AS TIMESTAMP)), project, model, provider, status, count(*),
        sum(input_tokens), sum(output_tokens), sum(cached_input_tokens), sum(cache_write_tokens),
        sum(reasoning_tokens), sum(CAST(cost_usd AS DECIMAL(18,9))), sum(latency_ms)
        FROM {src} GROUP BY ALL""").fetchall()
PY

# Every reader runs once per round, in turn (DuckDB in the first 3 rounds): the ratios compare runs
# made side by side, not one reader's slow spell with another's quiet one.
unzstd() { zstd -q -d -c "$LOG"/segments/*/*.zst >/dev/null; }
declare -a t_index t_zstd t_index_1t t_duck_simple t_duck_cube c_index c_zstd
for round in 1 2 3 4 5; do
    t_index+=("$(once_ms "$BIN" index --dir "$LOG" --rebuild --threads "$THREADS")")
    t_zstd+=("$(once_ms unzstd)")
    t_index_1t+=("$(once_ms "$BIN" index --dir "$LOG" --rebuild --threads 1)")
    c_index+=("$(cpu_once_ms "$BIN" index --dir "$LOG" --rebuild --threads 1)")
    c_zstd+=("$(cpu_once_ms bash -c "zstd -q -d -c $LOG/segments/*/*.zst >/dev/null")")
    if [ "$round" -le 3 ]; then
        t_duck_simple+=("$(once_ms "$PY" "$WORK/duck.py" simple)")
        t_duck_cube+=("$(once_ms "$PY" "$WORK/duck.py" cube)")
    fi
done
index_ms=$(median_of "${t_index[@]}")
zstd_ms=$(median_of "${t_zstd[@]}")
index_1t_ms=$(median_of "${t_index_1t[@]}")
duck_simple_ms=$(median_of "${t_duck_simple[@]}")
duck_cube_ms=$(median_of "${t_duck_cube[@]}")
index_cpu_ms=$(median_of "${c_index[@]}")
zstd_cpu_ms=$(median_of "${c_zstd[@]}")
index_mb=$(du -sm "$(readlink -f "$LOG/index")/$(cat "$LOG/index/CURRENT")" | cut -f1)
# The figures the targets table (scripts/bench-targets.sh) reads.
mkdir -p .build/bench-results
cat > .build/bench-results/index.env <<ENV
INDEX_WHEN="$(date -u +%Y-%m-%d)"
INDEX_RECORDS=1,000,000
INDEX_THREADS=$THREADS
INDEX_MS=$index_ms
INDEX_CPU_MS=$index_cpu_ms
ZSTD_CPU_MS=$zstd_cpu_ms
ZSTD_MS=$zstd_ms
DUCK_CUBE_MS=$duck_cube_ms
DUCK_SIMPLE_MS=$duck_simple_ms
ENV
if [ -n "${BASELINE:-}" ]; then
    base_ms=$(median_ms 3 "$BASELINE" index --dir "$LOG" --rebuild --threads "$THREADS")
    base_1t_ms=$(median_ms 3 "$BASELINE" index --dir "$LOG" --rebuild --threads 1)
    base_cpu_ms=$(cpu_ms 3 "$BASELINE" index --dir "$LOG" --rebuild --threads 1)
    base_rss_100k=$(peak_rss_mb "$BASELINE" index --dir "$WORK/100k" --rebuild)
    base_rss_1m=$(peak_rss_mb "$BASELINE" index --dir "$LOG" --rebuild)
    "$BIN" index --dir "$LOG" --rebuild >/dev/null  # the index the queries read: this build's
fi

"$BIN" index --dir "$WORK/100k" >/dev/null
"$BIN" index --dir "$WORK/10k" >/dev/null
rss_100k=$(peak_rss_mb "$BIN" index --dir "$WORK/100k" --rebuild)
rss_1m=$(peak_rss_mb "$BIN" index --dir "$LOG" --rebuild)

query_row() {  # query_row LABEL ARGS...
    local label=$1; shift
    local a b c
    a=$(median_ms 15 "$BIN" stats --dir "$WORK/10k" "$@")
    b=$(median_ms 15 "$BIN" stats --dir "$WORK/100k" "$@")
    c=$(median_ms 15 "$BIN" stats --dir "$WORK/1m" "$@")
    printf '| `stats %s` | %d ms | %d ms | %d ms | %s |\n' "$label" "$a" "$b" "$c" "$(ratio "$c" "$((a > 0 ? a : 1))")"
}

out=$WORK/section.md
{
    echo "## Index and queries"
    echo
    echo "Command: \`make bench\` (scripts/bench-index.sh), release build, medians of 5 rounds in which each reader runs once in turn (DuckDB: 3) and of 15 runs (queries)."
    echo "Machine: $(scripts/machine.sh); load average when the run ended: $(cut -d' ' -f1-3 /proc/loadavg) (wall times"
    echo "stretch with it; the ratios are of the same run)."
    echo
    echo "Data: scripts/gen-records.sh — 1,000,000 records over 90 days, 20 projects, 10 models, 60 users per"
    echo "project, 5 callers, 5 roles, 10 tasks; ${raw_mb} MB of JSON lines ($((raw_bytes / 1000000)) bytes per record),"
    echo "${zst_mb} MB sealed in ${segments} zstd segments."
    echo
    echo "### Full index build, same files, $THREADS threads each"
    echo
    echo "| reader | time | vs spendlog index |"
    echo "|---|---|---|"
    echo "| \`spendlog index --rebuild\` (6 cubes: hour, day and month rollups) | $index_ms ms | 1.00 |"
    echo "| DuckDB \`read_ndjson\`, same cells as the core cube (hour × project × model × provider × status, all sums) | $duck_cube_ms ms | $(ratio "$duck_cube_ms" "$index_ms") |"
    echo "| DuckDB \`read_ndjson\`, \`GROUP BY project, model\` with count and cost only | $duck_simple_ms ms | $(ratio "$duck_simple_ms" "$index_ms") |"
    echo "| \`zstd -d\` of the same files to /dev/null (1 thread: decompression alone) | $zstd_ms ms | $(ratio "$zstd_ms" "$index_ms") |"
    echo "| \`spendlog index --rebuild --threads 1\` | $index_1t_ms ms | $(ratio "$index_1t_ms" "$index_ms") |"
    echo
    echo "CPU time (user + system, 1 thread, median of 5, in turn): \`index --rebuild\` $index_cpu_ms ms, \`zstd -d\` $zstd_cpu_ms ms ($(ratio "$index_cpu_ms" "$zstd_cpu_ms")×)."
    echo
    echo "Index size: ${index_mb} MB. Peak memory of \`index --rebuild\`: ${rss_100k} MB at 100k records, ${rss_1m} MB at 1M"
    echo "(segments are streamed through buffers each thread reuses; a thread holds the hour and day cells of the day"
    echo "it reads; the day cells of the days it finished are packed as varints and spilled to an unnamed scratch file"
    echo "256 KiB at a time; day files are merged a day at a time and written to disk a mebibyte at a time)."
    if [ -n "${BASELINE:-}" ]; then
        echo
        echo "### Before and after, same run"
        echo
        echo "Before: the build named by \`BASELINE\` ($BASELINE_LABEL); after: this tree."
        echo
        echo "| figure | before | after | after / before |"
        echo "|---|---|---|---|"
        echo "| \`index --rebuild\`, $THREADS threads | $base_ms ms | $index_ms ms | $(ratio "$index_ms" "$base_ms") |"
        echo "| \`index --rebuild --threads 1\` | $base_1t_ms ms | $index_1t_ms ms | $(ratio "$index_1t_ms" "$base_1t_ms") |"
        echo "| CPU time (user + system) of \`index --rebuild --threads 1\` | $base_cpu_ms ms | $index_cpu_ms ms | $(ratio "$index_cpu_ms" "$base_cpu_ms") |"
        echo "| that CPU time vs \`zstd -d\`'s ($zstd_cpu_ms ms) | $(ratio "$base_cpu_ms" "$zstd_cpu_ms")× | $(ratio "$index_cpu_ms" "$zstd_cpu_ms")× | |"
        echo "| vs \`zstd -d\` ($zstd_ms ms), $THREADS threads | $(ratio "$base_ms" "$zstd_ms")× | $(ratio "$index_ms" "$zstd_ms")× | |"
        echo "| DuckDB, same cells ($duck_cube_ms ms) / index, $THREADS threads | $(ratio "$duck_cube_ms" "$base_ms")× | $(ratio "$duck_cube_ms" "$index_ms")× | |"
        echo "| peak memory at 100k records | $base_rss_100k MB | $rss_100k MB | $(ratio "$rss_100k" "$base_rss_100k") |"
        echo "| peak memory at 1M records | $base_rss_1m MB | $rss_1m MB | $(ratio "$rss_1m" "$base_rss_1m") |"
    fi
    echo
    echo "### Query latency (whole process, indexed log)"
    echo
    echo "| query | 10k records | 100k records | 1M records | 1M / 10k |"
    echo "|---|---|---|---|---|"
    for query in "${LATENCY_QUERIES[@]}"; do
        # shellcheck disable=SC2086  # the arguments split on spaces
        query_row "${query%%|*}" ${query#*|}
    done
} > "$out"
cat "$out"
scripts/perf-section.sh index "$out"
