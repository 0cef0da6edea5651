#!/usr/bin/env bash
# make bench: every benchmark, each writing its section of docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
for part in scripts/bench-*.sh; do
    echo "== $part"
    bash "$part"
done
