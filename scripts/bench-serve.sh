#!/usr/bin/env bash
# `spendlog serve` under load: wrk for DURATION seconds against /v1/stats while records are
# appended by other processes, then the section "Serve" of docs/PERFORMANCE.md is rewritten.
#   scripts/bench-serve.sh BIN_DIR   (BIN_DIR holds spendlog and spendlog-serve; `make bench-serve`)
# The log starts with BASE records over 60 days (sealed and indexed); during the run APPEND more
# arrive in batches of BATCH through `spendlog ingest` (one fsync per batch), spread over the run.
# The server's resident memory is read from /proc before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:?bin dir}
BASE=${BASE:-100000}
APPEND=${APPEND:-10000}
BATCH=${BATCH:-100}
DURATION=${DURATION:-30}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
PATH_QUERY=${PATH_QUERY:-/v1/stats?by=project}
work=$(mktemp -d)
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
log=$work/log
end=1795176000  # 2026-11-19T00:00:00Z: a fixed period, whatever the day
scripts/gen-records.sh "$BASE" 60 21 "$end" | "$BIN/spendlog" ingest --dir "$log" --fsync none - >/dev/null
"$BIN/spendlog" seal --dir "$log" >/dev/null
"$BIN/spendlog" index --dir "$log" >/dev/null
scripts/gen-records.sh "$APPEND" 1 22 "$end" > "$work/more.jsonl"
split -l "$BATCH" -d -a 4 "$work/more.jsonl" "$work/batch-"

"$BIN/spendlog-serve" --dir "$log" --listen 127.0.0.1:0 > "$work/serve.out" 2> "$work/serve.err" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
base_url=$(head -n 1 "$work/serve.out" | sed 's/^listening on //')
rss() { awk '/^VmRSS/ {print $2}' "/proc/$server/status"; }
curl -sf "$base_url$PATH_QUERY" > /dev/null
before=$(rss)

# The appends: every batch file at an even pace over the run.
batches=("$work"/batch-*)
pause=$(awk -v d="$DURATION" -v n="${#batches[@]}" 'BEGIN { printf "%.3f", (d * 0.9) / n }')
(
    for f in "${batches[@]}"; do
        "$BIN/spendlog" ingest --dir "$log" "$f" > /dev/null
        sleep "$pause"
    done
) &
appender=$!
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency "$base_url$PATH_QUERY" > "$work/wrk.txt"
wait "$appender"
after=$(rss)
peak=$(awk '/^VmHWM/ {print $2}' "/proc/$server/status")
total=$(curl -sf "$base_url/v1/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["requests"])')
cat "$work/wrk.txt"

p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.txt")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.txt")
rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.txt")
requests=$(awk '/requests in/ {print $1}' "$work/wrk.txt")
errors=$(awk '/Non-2xx|Socket errors/ {print}' "$work/wrk.txt")
[ -n "$errors" ] || errors="none"
expected=$((BASE + APPEND))
[ "$total" = "$expected" ] || { echo "the log holds $total records after the run, not $expected" >&2; exit 1; }

section=$(mktemp)
cat > "$section" <<MD
## Serve

\`spendlog serve\` (the release spendlog-serve) answering \`GET $PATH_QUERY\` for ${DURATION} s under
\`wrk -t$THREADS -c$CONNECTIONS --latency\`, while other processes append $APPEND records in batches of
$BATCH (\`spendlog ingest\`, one fsync each) to a log of $BASE records (sealed and indexed; the new
ones are read from their active segments). Command: \`make bench-serve\` (scripts/bench-serve.sh).
Machine: $(scripts/machine.sh).

| | |
| --- | --- |
| requests | $requests in ${DURATION} s, $rps/s |
| latency p50 | $p50 |
| latency p99 | $p99 |
| errors | $errors |
| server RSS before / after / peak | $((before / 1024)) MiB / $((after / 1024)) MiB / $((peak / 1024)) MiB |
| records after the run | $total (all $APPEND appended ones counted) |
MD
scripts/perf-section.sh serve "$section"
rm -f "$section"
echo "p50 $p50, p99 $p99, $rps req/s, RSS $((before / 1024)) -> $((after / 1024)) MiB (peak $((peak / 1024)) MiB), errors: $errors"
