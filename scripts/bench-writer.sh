#!/usr/bin/env bash
# Writer throughput: appends per second by fsync policy, threads and processes, and bulk ingest.
# Writes the "writer" section of docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export SPENDLOG_FAST_START=1  # the release build the Makefile makes (Package.swift)
swift build -c release --static-swift-stdlib --product spendlog >/dev/null
swift build -c release --static-swift-stdlib --product spendlog-harness >/dev/null
BIN=.build/release/spendlog
HARNESS=.build/release/spendlog-harness
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spendlog-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

now_ms() { date +%s%3N; }
rate() {  # rate LABEL RECORDS COMMAND...
    local label=$1 records=$2; shift 2
    rm -rf "$WORK/log"
    local start end
    start=$(now_ms)
    "$@"
    end=$(now_ms)
    local ms=$(( end - start > 0 ? end - start : 1 ))
    printf '| %s | %d | %d ms | %d |\n' "$label" "$records" "$ms" $(( records * 1000 / ms ))
}
multi() {  # multi PROCESSES COUNT FSYNC
    local pids=()
    for p in $(seq 1 "$1"); do
        "$HARNESS" append --dir "$WORK/log" --count "$2" --label "p$p" --fsync "$3" & pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
}

out=$WORK/section.md
{
    echo "## Writer"
    echo
    echo "Command: \`make bench\` (scripts/bench-writer.sh), release build, log on the local disk."
    echo "Machine: $(scripts/machine.sh)."
    echo
    echo "| workload | records | time | records/s |"
    echo "|---|---|---|---|"
    rate "library, 1 thread, fsync always" 5000 "$HARNESS" append --dir "$WORK/log" --count 5000 --label a --fsync always
    rate "library, 1 thread, fsync batch" 5000 "$HARNESS" append --dir "$WORK/log" --count 5000 --label a --fsync batch
    rate "library, 1 thread, fsync none" 100000 "$HARNESS" append --dir "$WORK/log" --count 100000 --label a --fsync none
    rate "library, 4 threads, fsync batch (group commit)" 20000 "$HARNESS" append --dir "$WORK/log" --count 5000 --label a --threads 4 --fsync batch
    rate "SpendLog.append (async), 1 task, fsync always" 20000 bash -c "$HARNESS tasks --dir $WORK/log --count 20000 --tasks 1 --fsync always >/dev/null"
    rate "SpendLog.append (async), 1,000 tasks, fsync always (group commit)" 200000 bash -c "$HARNESS tasks --dir $WORK/log --count 200000 --tasks 1000 --fsync always >/dev/null"
    rate "4 processes, fsync always" 20000 multi 4 5000 always
    rate "4 processes, fsync batch" 20000 multi 4 5000 batch
    awk 'BEGIN { for (i = 0; i < 200000; i++) printf "{\"ts\":\"2026-11-%02dT10:00:00Z\",\"project\":\"p%d\",\"model\":\"gpt-4.1\",\"input_tokens\":%d,\"output_tokens\":%d,\"cost_usd\":0.%06d}\n", 1 + i % 28, i % 20, i, i % 900, i }' > "$WORK/in.jsonl"
    rate "CLI ingest (one group commit)" 200000 bash -c "$BIN ingest --dir $WORK/log $WORK/in.jsonl >/dev/null"
    rate "CLI append, one process per record" 200 bash -c "for i in \$(seq 1 200); do $BIN append --dir $WORK/log --project p --model gpt-4.1 --input-tokens 10 --output-tokens 5 --cost 0.001 >/dev/null; done"
} > "$out"
cat "$out"
scripts/perf-section.sh writer "$out"
