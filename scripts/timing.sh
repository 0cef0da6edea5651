# Sourced by the benchmarks (not run): timing helpers and the queries of the latency table.
now_ms() { date +%s%3N; }
# once_ms COMMAND... — wall time of one run, in milliseconds; median_of TIMES... — their median.
# For runs of several commands taken in turn, so that a slow spell of the machine falls on all.
once_ms() {
    local start end
    start=$(now_ms); "$@" >/dev/null 2>&1; end=$(now_ms)
    echo $(( end - start ))
}
median_of() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# cpu_once_ms COMMAND... — CPU time (user + system) of one run, in milliseconds: steadier than wall
# time when other work shares the machine.
cpu_once_ms() { /usr/bin/time -f '%U %S' "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%d\n", ($1 + $2) * 1000}'; }
# median_ms RUNS COMMAND... / cpu_ms RUNS COMMAND... — the median of RUNS runs of one command.
median_ms() {
    local runs=$1 times=(); shift
    for _ in $(seq 1 "$runs"); do times+=("$(once_ms "$@")"); done
    median_of "${times[@]}"
}
cpu_ms() {
    local runs=$1 times=(); shift
    for _ in $(seq 1 "$runs"); do times+=("$(cpu_once_ms "$@")"); done
    median_of "${times[@]}"
}
peak_rss_mb() { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null | tail -1 | awk '{printf "%.0f", $1/1024}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# The `stats` questions of the latency table, as "LABEL|ARGUMENTS" (the arguments split on spaces;
# the first is the default grouping, by project).
LATENCY_QUERIES=(
    "--by project|"
    "--by model --format json|--by model --format json"
    "--by day --by model|--by day --by model"
    "--by project --since 2026-10-15T06:30:00Z|--by project --since 2026-10-15T06:30:00Z"
    "--by user --project etl|--by user --project etl"
)
