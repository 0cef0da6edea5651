#!/usr/bin/env bash
# make bench: every benchmark but bench-large.sh (make bench-large), each writing its section of
# docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
for part in scripts/bench-*.sh; do
    [ "$part" != scripts/bench-large.sh ] || continue  # make bench-large
    echo "== $part"
    bash "$part"
done
