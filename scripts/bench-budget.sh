#!/usr/bin/env bash
# Enforced appends per second (check the limits, append, count, under budget/lock), 1 and 8
# processes, next to llm-toll's SQLiteStore.log_usage_if_within_budget measured in the same run at
# the same durability. Writes the "budget" section of docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export SPENDLOG_FAST_START=1  # the release build the Makefile makes (Package.swift)
swift build -c release --static-swift-stdlib --product spendlog >/dev/null
swift build -c release --static-swift-stdlib --product spendlog-harness >/dev/null
BIN=.build/release/spendlog
HARNESS=.build/release/spendlog-harness
# llm-toll from the peers' venv of `make venv`, else a venv of its own at the same version.
VENV=.venv-peers
if ! $VENV/bin/python -c "import llm_toll" 2>/dev/null; then
    VENV=.venv-bench
    [ -x $VENV/bin/python ] || python3 -m venv $VENV
    $VENV/bin/python -c "import llm_toll" 2>/dev/null || $VENV/bin/pip install -q "llm-toll==0.13.0"
fi
TOLL_VERSION=$($VENV/bin/python -c "import importlib.metadata as m; print(m.version('llm-toll'))")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spendlog-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

cat > "$WORK/toll.py" <<'PY'
# One llm-toll process: N calls of log_usage_if_within_budget against a budget never reached.
import sys
from llm_toll.store import SQLiteStore
db, count, synchronous = sys.argv[1], int(sys.argv[2]), sys.argv[3]
store = SQLiteStore(db)
store._get_conn().execute(f"PRAGMA synchronous={synchronous}")
for i in range(count):
    store.log_usage_if_within_budget("bench", "gpt-4.1-mini", 10, 1, 0.000001 * (1 + i % 10), 1e9)
PY

now_ms() { date +%s%3N; }
rate() {  # rate LABEL DURABILITY RECORDS COMMAND...
    local label=$1 durability=$2 records=$3; shift 3
    rm -rf "$WORK/log" "$WORK"/toll.db*
    if [[ $label == spendlog* ]]; then
        $BIN limit set --dir "$WORK/log" --scope global --type cost --max 1000000 --window day >/dev/null
    else
        # The database made first, untimed: processes that all create it at once can fail with
        # "database is locked".
        $VENV/bin/python -c "from llm_toll.store import SQLiteStore; SQLiteStore('$WORK/toll.db')._get_conn()"
    fi
    local start end
    start=$(now_ms)
    "$@"
    end=$(now_ms)
    local ms=$(( end - start > 0 ? end - start : 1 ))
    printf '| %s | %s | %d | %d ms | %d |\n' "$label" "$durability" "$records" "$ms" $(( records * 1000 / ms ))
}
spendlog_procs() {  # PROCESSES COUNT FSYNC
    local pids=()
    for p in $(seq 1 "$1"); do
        "$HARNESS" enforce --dir "$WORK/log" --count "$2" --seed "$p" --fsync "$3" --min-nanos 1000 --max-nanos 2000 --quiet 1 >/dev/null & pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
}
toll_procs() {  # PROCESSES COUNT SYNCHRONOUS
    local pids=()
    for p in $(seq 1 "$1"); do
        $VENV/bin/python "$WORK/toll.py" "$WORK/toll.db" "$2" "$3" & pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
}

out=$WORK/section.md
{
    echo "## Budget enforcement"
    echo
    echo "Command: \`make bench\` (scripts/bench-budget.sh), release build, log on the local disk."
    echo "Machine: $(scripts/machine.sh)."
    echo
    echo "Enforced append = take \`budget/lock\`, catch up with the log, check the limit, append, count,"
    echo "release (library \`Budget.appendIfWithinLimits\` via \`spendlog-harness enforce\`; the limit is never"
    echo "reached, so every call appends). llm-toll $TOLL_VERSION: \`SQLiteStore.log_usage_if_within_budget\`"
    echo "(SQLite WAL) in one Python process per writer, measured in the same run."
    echo
    echo "Durability: *process crash* = spendlog \`--fsync none\` / llm-toll's default \`synchronous=NORMAL\`"
    echo "(a WAL commit is not fsynced); *power loss* = spendlog \`--fsync always\` (fsync of the segment"
    echo "and of the sidecar checkpoint when one is written) / llm-toll with \`synchronous=FULL\` (fsync per commit)."
    echo
    echo "| workload | survives | calls | time | calls/s |"
    echo "|---|---|---|---|---|"
    rate "spendlog, 1 process" "process crash" 20000 spendlog_procs 1 20000 none
    rate "llm-toll, 1 process" "process crash" 20000 toll_procs 1 20000 NORMAL
    rate "spendlog, 8 processes" "process crash" 20000 spendlog_procs 8 2500 none
    rate "llm-toll, 8 processes" "process crash" 20000 toll_procs 8 2500 NORMAL
    rate "spendlog, 1 process" "power loss" 2000 spendlog_procs 1 2000 always
    rate "llm-toll, 1 process" "power loss" 2000 toll_procs 1 2000 FULL
    rate "spendlog, 8 processes" "power loss" 2000 spendlog_procs 8 250 always
    rate "llm-toll, 8 processes" "power loss" 2000 toll_procs 8 250 FULL
    echo
    echo "llm-toll reads the total outside its write transaction, so concurrent processes can overspend"
    echo "(the issue that motivated this design); spendlog holds one lock from check to count."
} > "$out"
cat "$out"
scripts/perf-section.sh budget "$out"
