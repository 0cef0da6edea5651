#!/usr/bin/env bash
# The performance targets, side by side in one run: each spendlog figure next to the figure it is
# held against, run alternately, ROUNDS times (default 3); the table gives the medians and the
# ratio of the medians. Writes the "targets" section of docs/PERFORMANCE.md. The index rows are
# read from the figures scripts/bench-index.sh and scripts/bench-large.sh leave in
# .build/bench-results/ (each row says when those were measured).
set -euo pipefail
cd "$(dirname "$0")/.."
export SPENDLOG_FAST_START=1  # the release build the Makefile makes (Package.swift)
ROUNDS=${ROUNDS:-3}
swift build -c release --static-swift-stdlib --product spendlog >/dev/null
swift build -c release --static-swift-stdlib --product spendlog-harness >/dev/null
BIN=$PWD/.build/release/spendlog
HARNESS=$PWD/.build/release/spendlog-harness
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spendlog-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cc -O2 -o "$WORK/fsync-loop" scripts/fsync-loop.c
# llm-toll from the peers' venv of `make venv`, else a venv of its own, at the same version.
TOLL_VERSION=0.13.0
PY=.venv-peers/bin/python
if ! "$PY" -c "import llm_toll" 2>/dev/null; then
    PY=.venv-bench/bin/python
    [ -x "$PY" ] || python3 -m venv .venv-bench
    "$PY" -c "import llm_toll" 2>/dev/null || "$PY" -m pip install -q "llm-toll==$TOLL_VERSION"
fi
TOLL_VERSION=$("$PY" -c "import importlib.metadata as m; print(m.version('llm-toll'))")

cat > "$WORK/toll.py" <<'PY'
# One llm-toll process: N calls of log_usage, or of log_usage_if_within_budget against a budget
# never reached, at the given synchronous setting (llm-toll's default is NORMAL, with WAL).
import sys
from llm_toll.store import SQLiteStore
db, mode, count, synchronous = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
store = SQLiteStore(db)
store._get_conn().execute(f"PRAGMA synchronous={synchronous}")
for i in range(count):
    cost = 0.000001 * (1 + i % 10)
    if mode == "log":
        store.log_usage("bench", "gpt-4.1-mini", 10, 1, cost)
    else:
        store.log_usage_if_within_budget("bench", "gpt-4.1-mini", 10, 1, cost, 1e9)
PY

now_ns() { date +%s%N; }
# ms COMMAND... — wall time of one run, in milliseconds (at least 1)
ms() {
    local start end
    start=$(now_ns); "$@" >/dev/null; end=$(now_ns)
    local elapsed=$(( (end - start) / 1000000 ))
    echo $(( elapsed > 0 ? elapsed : 1 ))
}
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
fresh() { rm -rf "$WORK/log" "$WORK"/toll.db* "$WORK/loop"; }
procs() {  # procs N COMMAND... — N copies at once; $P in the command is the copy's number
    local pids=()
    for p in $(seq 1 "$1"); do P=$p eval "${*:2}" >/dev/null & pids+=($!); done
    for pid in "${pids[@]}"; do wait "$pid"; done
}
toll_db() { "$PY" -c "from llm_toll.store import SQLiteStore; SQLiteStore('$WORK/toll.db')._get_conn()"; }
limit() { "$BIN" limit set --dir "$WORK/log" --scope global --type cost --max 1000000 --window day >/dev/null; }

# The line a harness append writes, so the C loop writes lines of the same size.
fresh; "$HARNESS" append --dir "$WORK/log" --count 100 --label a --fsync none >/dev/null
LINE=$(( $(cat "$WORK"/log/segments/*/*.jsonl | wc -c) / 100 ))
DURABLE=3000; ASYNC=100000; CRASH=100000; TOLL_LOG=20000; ENFORCED=20000; CLI=200
cli_appends() {  # CLI priced appends, one process each, as a script in another language makes them
    for _ in $(seq 1 $CLI); do
        "$BIN" append --dir "$WORK/log" --project bench --model gpt-4.1-mini --input-tokens 1200 --output-tokens 80 \
            --fsync none >/dev/null
    done
}
starts() { for _ in $(seq 1 $CLI); do /bin/true; done; }

# A log a year old: one record on each of the 365 days before the clock of the enforced runs,
# sealed, so that every day folder is quiet; and the same clock on a log of no day. The enforced
# appends then add to the last day.
AT=2026-12-01T12:00:00Z
YEARS=$((ENFORCED / 4))
for i in $(seq 364 -1 0); do
    printf '{"ts":"%sT08:00:00Z","project":"old","model":"gpt-4.1-mini","input_tokens":10,"output_tokens":1,"cost_usd":0.001}\n' \
        "$(date -u -d "${AT%T*} - $i days" +%F)"
done > "$WORK/year.jsonl"
"$BIN" ingest --dir "$WORK/year" --fsync none "$WORK/year.jsonl" >/dev/null
"$BIN" seal --dir "$WORK/year" >/dev/null
aged() {  # aged DAYS WINDOW — YEARS enforced appends on a copy of the year's log (DAYS=365) or an empty one
    rm -rf "$WORK/aged"
    if [ "$1" = 365 ]; then cp -a "$WORK/year" "$WORK/aged"; fi
    "$BIN" limit set --dir "$WORK/aged" --scope global --type cost --max 1000000 --window "$2" >/dev/null
    ms "$HARNESS" enforce --dir "$WORK/aged" --count $YEARS --seed 1 --fsync none --min-nanos 1000 --max-nanos 2000 \
        --quiet 1 --now $AT
}

declare -a durable loop tasks crash tolllog enf1 toll1 enf8 toll8 cli floor month1 month365 life1 life365
for round in $(seq 1 "$ROUNDS"); do
    echo "round $round of $ROUNDS" >&2
    fresh; durable+=("$(ms "$HARNESS" append --dir "$WORK/log" --count $DURABLE --label a --fsync always)")
    fresh; loop+=("$(ms "$WORK/fsync-loop" "$WORK/loop" $DURABLE "$LINE")")
    fresh; tasks+=("$(ms "$HARNESS" tasks --dir "$WORK/log" --count $ASYNC --tasks 1000 --fsync always)")
    fresh; crash+=("$(ms "$HARNESS" append --dir "$WORK/log" --count $CRASH --label a --fsync none)")
    fresh; toll_db; tolllog+=("$(ms "$PY" "$WORK/toll.py" "$WORK/toll.db" log $TOLL_LOG NORMAL)")
    fresh; limit
    enf1+=("$(ms "$HARNESS" enforce --dir "$WORK/log" --count $ENFORCED --seed 1 --fsync none --min-nanos 1000 --max-nanos 2000 --quiet 1)")
    fresh; toll_db; toll1+=("$(ms "$PY" "$WORK/toll.py" "$WORK/toll.db" enforce $ENFORCED NORMAL)")
    fresh; limit
    enf8+=("$(ms procs 8 "$HARNESS" enforce --dir "$WORK/log" --count $((ENFORCED / 8)) --seed '$P' --fsync none --min-nanos 1000 --max-nanos 2000 --quiet 1)")
    fresh; toll_db
    toll8+=("$(ms procs 8 "$PY" "$WORK/toll.py" "$WORK/toll.db" enforce $((ENFORCED / 8)) NORMAL)")
    fresh; cli+=("$(ms cli_appends)")
    floor+=("$(ms starts)")
    month1+=("$(aged 1 month)"); month365+=("$(aged 365 month)")
    life1+=("$(aged 1 lifetime)"); life365+=("$(aged 365 lifetime)")
done

per_s() { echo $(( $1 * 1000 / $2 )); }  # per_s COUNT MS
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v t="$2" -v dir="$3" 'BEGIN { ok = (dir == "min") ? r >= t : r <= t; print ok ? "met" : "missed" }'; }
row() {  # row FIGURE SPENDLOG OTHER RATIO TARGET VERDICT
    printf '| %s | %s | %s | %s | %s | %s |\n' "$@"
}
ratio_row() {  # ratio_row FIGURE SPENDLOG OTHER RATIO LIMIT min|max [SUFFIX] — the target is the ratio's limit
    local sign="≥"
    [ "$6" = max ] && sign="≤"
    row "$1" "$2" "$3" "$4×${7:-}" "$sign $5×" "$(verdict "$4" "$5" "$6")"
}

m_durable=$(median "${durable[@]}"); m_loop=$(median "${loop[@]}"); m_tasks=$(median "${tasks[@]}")
m_crash=$(median "${crash[@]}"); m_tolllog=$(median "${tolllog[@]}")
m_enf1=$(median "${enf1[@]}"); m_toll1=$(median "${toll1[@]}"); m_enf8=$(median "${enf8[@]}"); m_toll8=$(median "${toll8[@]}")
r_durable=$(ratio "$m_loop" "$m_durable")
r_tasks=$(ratio "$(per_s $ASYNC "$m_tasks")" "$(per_s $DURABLE "$m_loop")")
r_crash=$(ratio "$(per_s $CRASH "$m_crash")" "$(per_s $TOLL_LOG "$m_tolllog")")
r_enf1=$(ratio "$m_toll1" "$m_enf1"); r_enf8=$(ratio "$m_toll8" "$m_enf8")
per_call() { awk -v ms="$1" -v n="$CLI" 'BEGIN { printf "%.1f", ms / n }'; }
m_cli=$(per_call "$(median "${cli[@]}")"); m_true=$(per_call "$(median "${floor[@]}")")
m_month1=$(median "${month1[@]}"); m_month365=$(median "${month365[@]}")
m_life1=$(median "${life1[@]}"); m_life365=$(median "${life365[@]}")

out=$WORK/section.md
{
    echo "## Targets"
    echo
    echo "Command: \`make bench\` (scripts/bench-targets.sh), release build, log on the local disk; each pair run"
    echo "alternately, $ROUNDS rounds, medians; ratios of the medians. llm-toll $TOLL_VERSION (SQLite, WAL) in one Python process"
    echo "per writer, its start included (about 0.1 s of each run)."
    echo "Machine: $(scripts/machine.sh); load average when the run ended: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "| figure | spendlog | compared with | ratio | target | |"
    echo "|---|---|---|---|---|---|"
    ratio_row "durable append, 1 thread, \`--fsync always\` ($DURABLE records), vs a C \`write\`+\`fdatasync\` loop of the same $LINE-byte lines" \
        "$(per_s $DURABLE "$m_durable")/s" "$(per_s $DURABLE "$m_loop")/s" "$r_durable" 0.9 min
    row "group commit, 1,000 async appenders (\`SpendLog.append\`), every append acknowledged after its fsync ($ASYNC records)" \
        "$(per_s $ASYNC "$m_tasks")/s" "the C loop's fsync rate" "${r_tasks}×" "≥ 100,000/s" \
        "$(verdict "$(per_s $ASYNC "$m_tasks")" 100000 min)"
    ratio_row "appends surviving a process crash (\`--fsync none\`), 1 thread, vs llm-toll \`log_usage\` (synchronous=NORMAL)" \
        "$(per_s $CRASH "$m_crash")/s" "$(per_s $TOLL_LOG "$m_tolllog")/s" "$r_crash" 10 min
    ratio_row "enforced append (\`Budget.appendIfWithinLimits\`, \`--fsync none\`), 1 process, vs llm-toll \`log_usage_if_within_budget\` (NORMAL)" \
        "$(per_s $ENFORCED "$m_enf1")/s" "$(per_s $ENFORCED "$m_toll1")/s" "$r_enf1" 3 min
    ratio_row "the same, 8 processes at once" \
        "$(per_s $ENFORCED "$m_enf8")/s" "$(per_s $ENFORCED "$m_toll8")/s" "$r_enf8" 3 min
    row "enforced append, 1 process, a monthly limit, on a log of 365 sealed day folders vs on a new log ($YEARS calls): a catch-up looks only at the days the limit can still count (this month and the last)" \
        "$(per_s $YEARS "$m_month365")/s" "$(per_s $YEARS "$m_month1")/s" "$(ratio "$m_month365" "$m_month1")× the time" "—" ""
    row "the same with a lifetime limit: every day can count, so each day folder is \`stat\`ed on every call" \
        "$(per_s $YEARS "$m_life365")/s" "$(per_s $YEARS "$m_life1")/s" "$(ratio "$m_life365" "$m_life1")× the time" "—" ""
    row "one CLI \`append\` priced from the built-in table (\`--fsync none\`), wall time per process started from bash" \
        "$m_cli ms" "$m_true ms (\`/bin/true\`)" "" "≤ 5 ms" "$(verdict "$m_cli" 5 max)"
    results=.build/bench-results
    if [ -f $results/index.env ]; then
        # shellcheck disable=SC1090
        . $results/index.env
        ratio_row "\`index --rebuild\` ($INDEX_THREADS threads) vs \`zstd -d\` of the same segments (1 thread), wall time, $INDEX_RECORDS records ($INDEX_WHEN)" \
            "$INDEX_MS ms" "$ZSTD_MS ms" "$(ratio "$INDEX_MS" "$ZSTD_MS")" 2 max
        ratio_row "the same in CPU time, \`index --rebuild --threads 1\` (user + system)" \
            "$INDEX_CPU_MS ms" "$ZSTD_CPU_MS ms" "$(ratio "$INDEX_CPU_MS" "$ZSTD_CPU_MS")" 2 max
        ratio_row "\`index --rebuild\` ($INDEX_THREADS threads) vs DuckDB \`read_ndjson\`, same cells ($INDEX_WHEN)" \
            "$INDEX_MS ms" "$DUCK_CUBE_MS ms" "$(ratio "$DUCK_CUBE_MS" "$INDEX_MS")" 3 min " faster"
        ratio_row "\`index --rebuild\` vs DuckDB, a plain \`GROUP BY project, model\` ($INDEX_WHEN)" \
            "$INDEX_MS ms" "$DUCK_SIMPLE_MS ms" "$(ratio "$DUCK_SIMPLE_MS" "$INDEX_MS")" 1.5 min " faster"
    else
        row "index rows" "not measured: run \`make bench\` (scripts/bench-index.sh)" "" "" "" ""
    fi
    if [ -f $results/large.env ]; then
        # shellcheck disable=SC1090
        . $results/large.env
        mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
        row "peak RSS of \`index --rebuild\` at 10M records, and 10M / 1M ($LARGE_WHEN, \`make bench-large\`)" \
            "$(mib "$RSS_10M_KIB") MiB" "$(mib "$RSS_1M_KIB") MiB at 1M" "$(ratio "$RSS_10M_KIB" "$RSS_1M_KIB")×" \
            "≤ 64 MiB, flat (≤ 1.1×)" \
            "≤ 64 MiB: $(verdict "$RSS_10M_KIB" $((64 * 1024)) max); flat: $(verdict "$(ratio "$RSS_10M_KIB" "$RSS_1M_KIB")" 1.1 max)"
        row "\`stats\` latency growth 10k → 10M, the worst query of the latency table ($LARGE_WHEN)" \
            "\`$WORST_QUERY\`" "$WORST_10K_MS ms at 10k, $WORST_10M_MS ms at 10M" "${WORST_GROWTH}×" "≤ 1.5×" \
            "$(verdict "$WORST_GROWTH" 1.5 max)"
    else
        row "10M rows" "not measured: run \`make bench-large\`" "" "" "" ""
    fi
} > "$out"
cat "$out"
scripts/perf-section.sh targets "$out"
