#!/usr/bin/env bash
# Many hosts into one log: HOSTS simulated hosts each write RECORDS records of one day in CHUNKS
# sealed segments (as hourly rotation would), are gathered with `spendlog collect`, then indexed.
# Prints the files per day folder and the time of collect and index, for docs/SCALE.md.
#   scripts/bench-scale.sh [HOSTS] [RECORDS] [CHUNKS]
# BIN (default: .build/release/spendlog) must be a build with `collect`.
set -euo pipefail
cd "$(dirname "$0")/.."
HOSTS=${1:-3}; RECORDS=${2:-300000}; CHUNKS=${3:-24}
BIN=${BIN:-$PWD/.build/release/spendlog}
THREADS=${THREADS:-$(nproc)}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spendlog-scale.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
END=1795392000  # 2026-11-24T00:00:00Z: one fixed day of records
now_ms() { date +%s%3N; }
for h in $(seq 1 "$HOSTS"); do
    for c in $(seq 1 "$CHUNKS"); do
        scripts/gen-records.sh $(( RECORDS / CHUNKS )) 1 $(( h * 1000 + c )) $END >"$WORK/chunk.jsonl"
        SPENDLOG_HOST=host-$h "$BIN" ingest --dir "$WORK/host-$h" --fsync none "$WORK/chunk.jsonl" >/dev/null
        SPENDLOG_HOST=host-$h "$BIN" seal --dir "$WORK/host-$h"
    done
done
start=$(now_ms)
"$BIN" collect "$WORK"/host-* --into "$WORK/all" >/dev/null
collect_ms=$(( $(now_ms) - start ))
start=$(now_ms)
"$BIN" index --dir "$WORK/all" --threads "$THREADS" >/dev/null
index_ms=$(( $(now_ms) - start ))
folder=$(ls -d "$WORK"/all/segments/day=*)
files=$(ls "$folder" | wc -l)
bytes=$(du -sb "$folder" | cut -f1)
index_bytes=$(du -sb "$WORK/all/index" | cut -f1)
start=$(now_ms)
"$BIN" collect "$WORK"/host-* --into "$WORK/all" >/dev/null
again_ms=$(( $(now_ms) - start ))
echo "hosts=$HOSTS records_per_host=$RECORDS segments_per_host=$CHUNKS threads=$THREADS"
echo "day folder: $files files, $bytes bytes; index: $index_bytes bytes"
echo "collect: $collect_ms ms (again, nothing to copy: $again_ms ms); index: $index_ms ms"
echo "records per second indexed: $(( HOSTS * RECORDS * 1000 / (index_ms > 0 ? index_ms : 1) ))"
