#!/usr/bin/env bash
# Side by side on one indexed log: a question the rollups answer, and the ones that read raw
# segments (a tag, a half-hour zone). Prints a Markdown table of medians of RUNS runs.
#   scripts/bench-filters.sh BIN [RECORDS] [RUNS]
set -euo pipefail
BIN=${1:?spendlog binary}; N=${2:-1000000}; RUNS=${3:-5}
DIR=$(mktemp -d); trap 'rm -rf "$DIR"' EXIT
TAGS=1 "$(dirname "$0")/gen-records.sh" "$N" 90 7 1795392000 | "$BIN" ingest --dir "$DIR/log" --fsync none - >/dev/null
"$BIN" seal --dir "$DIR/log" >/dev/null
"$BIN" index --dir "$DIR/log" >/dev/null
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=""
echo "| query | median | vs --by model |"
echo "|---|---|---|"
for q in "--by model" "--by day" "--by day --tz America/New_York" "--by tag:team" "--by model --tag team=team-3" \
    "--by day --tz Asia/Kolkata" "--by day --tz Australia/Adelaide"; do
    for i in $(seq "$RUNS"); do
        s=$(date +%s%N); "$BIN" stats --dir "$DIR/log" $q >/dev/null; e=$(date +%s%N)
        echo $(((e - s) / 1000000))
    done | median > "$DIR/t"
    t=$(cat "$DIR/t"); [ -n "$base" ] || base=$t
    echo "| \`stats $q\` | $t ms | $(awk -v a="$t" -v b="$base" 'BEGIN {printf "%.1f", a / b}') |"
done
