#!/usr/bin/env bash
# make bench: every benchmark, each writing its section of docs/PERFORMANCE.md; the targets table
# last, as it reads the figures the index benchmark leaves. (make bench-large is separate: it
# generates 10M records.)
set -euo pipefail
cd "$(dirname "$0")/.."
for part in scripts/bench-*.sh; do
    case $part in */bench-large.sh | */bench-targets.sh) continue ;; esac
    echo "== $part"
    bash "$part"
done
echo "== scripts/bench-targets.sh"
bash scripts/bench-targets.sh
