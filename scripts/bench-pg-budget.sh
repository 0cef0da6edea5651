#!/usr/bin/env bash
# A budget shared in PostgreSQL (docs/FORMAT.md, "Shared budgets on PostgreSQL"): enforced appends
# per second across 3 simulated hosts × PROCS processes, next to llm-toll's
# PostgresStore.log_usage_if_within_budget against the same throwaway server; what one CLI call
# pays for its connection; and overspend under a race for a small limit. Not part of make test.
# Writes the "pg-budget" section of docs/PERFORMANCE.md.
#   scripts/bench-pg-budget.sh            (PROCS=8 CALLS=200 CLI_CALLS=20 ROUNDS=5)
set -euo pipefail
cd "$(dirname "$0")/.."
export SPENDLOG_FAST_START=1  # the release build the Makefile makes (Package.swift)
PROCS=${PROCS:-8}
CALLS=${CALLS:-200}
CLI_CALLS=${CLI_CALLS:-20}
ROUNDS=${ROUNDS:-5}
swift build -c release --static-swift-stdlib --product spendlog >/dev/null
swift build -c release --static-swift-stdlib --product spendlog-harness >/dev/null
BIN=$PWD/.build/release/spendlog
HARNESS=$PWD/.build/release/spendlog-harness
VENV=.venv-bench
[ -x $VENV/bin/python ] || python3 -m venv $VENV
$VENV/bin/python -c "import llm_toll, psycopg2" 2>/dev/null || $VENV/bin/pip install -q "llm-toll==0.13.0" psycopg2-binary
TOLL_VERSION=$($VENV/bin/python -c "import importlib.metadata as m; print(m.version('llm-toll'))")
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PGVERSION=$("$PGBIN/postgres" --version | awk '{print $3}')
WORK=$(mktemp -d "${TMPDIR:-/tmp}/spendlog-pgbench.XXXXXX")
AS=()
if [ "$(id -u)" = 0 ]; then AS=(runuser -u nobody --); chown nobody "$WORK"; chmod 755 "$WORK"; fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"${AS[@]}" "$PGBIN/initdb" -D "$WORK/data" -U spendlog --auth=trust -E UTF8 --no-sync >/dev/null
"${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PORT -k $WORK -c fsync=off -c max_connections=200" start >/dev/null
trap '"${AS[@]}" "$PGBIN/pg_ctl" -D "$WORK/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
psql_() { "$PGBIN/psql" -X -q -A -t -h 127.0.0.1 -p "$PORT" -U spendlog -d "$1" -c "$2"; }
url() { echo "postgresql://spendlog@127.0.0.1:$PORT/$1"; }
fresh() {  # fresh DB: a database, and a URL file for spendlog
    psql_ postgres "DROP DATABASE IF EXISTS $1" >/dev/null 2>&1
    psql_ postgres "CREATE DATABASE $1" >/dev/null
    url "$1" > "$WORK/$1.url"
    rm -rf "$WORK/logs-$1"
}

cat > "$WORK/toll.py" <<'PY'
# One llm-toll process: N calls of PostgresStore.log_usage_if_within_budget; prints accepted calls.
import sys, warnings
from llm_toll.exceptions import BudgetExceededError
from llm_toll._postgres_store import PostgresStore
dsn, count, cost, budget = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
store = PostgresStore(dsn, min_conn=1, max_conn=1)
accepted = 0
for i in range(count):
    try:
        store.log_usage_if_within_budget("bench", "gpt-4.1-mini", 10, 1, cost, budget)
        accepted += 1
    except BudgetExceededError:
        pass
print(accepted)
PY
cat > "$WORK/toll-init.py" <<'PY'
import sys
from llm_toll._postgres_store import PostgresStore
PostgresStore(sys.argv[1], min_conn=1, max_conn=1)
PY

now_ms() { date +%s%3N; }
hosts=(host-a host-b host-c)
spendlog_lib() {  # DB COUNT COST: 3 hosts × PROCS harness processes, one connection each
    local pids=()
    for h in "${hosts[@]}"; do
        for p in $(seq 1 "$PROCS"); do
            SPENDLOG_HOST=$h "$HARNESS" shared --dir "$WORK/logs-$1/$h" --count "$2" --url-file "$WORK/$1.url" \
                --fsync none --cost "$3" > "$WORK/out-$h-$p" & pids+=($!)
        done
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
}
spendlog_cli() {  # DB COUNT: 3 hosts × PROCS shell loops of `spendlog append --enforce`
    local pids=()
    for h in "${hosts[@]}"; do
        for p in $(seq 1 "$PROCS"); do
            (for i in $(seq 1 "$2"); do
                SPENDLOG_HOST=$h "$BIN" append --enforce --dir "$WORK/logs-$1/$h" --budget-store-file "$WORK/$1.url" \
                    --fsync none --project bench --model gpt-4.1-mini --input-tokens 10 --output-tokens 1 \
                    --cost 0.000001 >/dev/null
            done) & pids+=($!)
        done
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
}
toll_procs() {  # DB COUNT COST BUDGET
    local pids=()
    for p in $(seq 1 $((3 * PROCS))); do
        $VENV/bin/python "$WORK/toll.py" "$(url "$1")" "$2" "$3" "$4" > "$WORK/toll-out-$p" & pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
}
row() {  # LABEL CALLS MS
    printf '| %s | %d | %d ms | %d |\n' "$1" "$2" "$3" $(( $2 * 1000 / ($3 > 0 ? $3 : 1) ))
}

out=$WORK/section.md
{
    echo "## Shared budget on PostgreSQL"
    echo
    echo "Command: \`scripts/bench-pg-budget.sh\` (PROCS=$PROCS CALLS=$CALLS CLI_CALLS=$CLI_CALLS ROUNDS=$ROUNDS), release"
    echo "build, PostgreSQL $PGVERSION on loopback (a throwaway cluster, \`fsync=off\`: the server's disk is"
    echo "left out, as it is the same for both), logs on the local disk with \`--fsync none\`."
    echo "Machine: $(scripts/machine.sh)."
    echo
    echo "Three simulated hosts (separate logs, \`SPENDLOG_HOST\`) × $PROCS processes, all against one"
    echo "limit (a budget never reached, so every call is counted). spendlog library: \`SharedBudget\`"
    echo "via \`spendlog-harness shared\`, one connection per process, each call one check-and-count"
    echo "transaction (rows locked), the append, and the pending marker's delete. spendlog CLI: one"
    echo "\`spendlog append --enforce\` process per call (start-up, connection, transaction, append)."
    echo "llm-toll $TOLL_VERSION: \`PostgresStore.log_usage_if_within_budget\` (psycopg2, one pooled"
    echo "connection per process), one Python process per writer, against the same server."
    echo
    echo "| workload | calls | time | calls/s |"
    echo "|---|---|---|---|"
} > "$out"

fresh lib
$BIN limit set --dir "$WORK/logs-lib/host-a" --budget-store-file "$WORK/lib.url" --scope global --type cost \
    --max 1000000 --window lifetime >/dev/null
start=$(now_ms); spendlog_lib lib "$CALLS" 0.000001; end=$(now_ms)
row "spendlog library, 3 × $PROCS processes" $((3 * PROCS * CALLS)) $((end - start)) >> "$out"

fresh toll
$VENV/bin/python "$WORK/toll-init.py" "$(url toll)"
start=$(now_ms); toll_procs toll "$CALLS" 0.000001 1000000000; end=$(now_ms)
row "llm-toll, 3 × $PROCS processes" $((3 * PROCS * CALLS)) $((end - start)) >> "$out"

fresh cli
$BIN limit set --dir "$WORK/logs-cli/host-a" --budget-store-file "$WORK/cli.url" --scope global --type cost \
    --max 1000000 --window lifetime >/dev/null
start=$(now_ms); spendlog_cli cli "$CLI_CALLS"; end=$(now_ms)
row "spendlog CLI, 3 × $PROCS processes" $((3 * PROCS * CLI_CALLS)) $((end - start)) >> "$out"

# What one CLI call pays for the store: sequential calls, with the store, with local limits, none.
seq_ms() {  # N COMMAND…: ms per call over N sequential calls
    local n=$1; shift
    local start end
    start=$(now_ms)
    for i in $(seq 1 "$n"); do "$@" >/dev/null; done
    end=$(now_ms)
    echo "scale=2; ($end - $start) / $n" | bc
}
fresh one
$BIN limit set --dir "$WORK/logs-one" --budget-store-file "$WORK/one.url" --scope global --type cost --max 1000000 \
    --window lifetime >/dev/null
$BIN limit set --dir "$WORK/logs-local" --scope global --type cost --max 1000000 --window lifetime >/dev/null
args=(--fsync none --project bench --model gpt-4.1-mini --input-tokens 10 --output-tokens 1 --cost 0.000001)
shared_ms=$(seq_ms 200 "$BIN" append --enforce --dir "$WORK/logs-one" --budget-store-file "$WORK/one.url" "${args[@]}")
local_ms=$(seq_ms 200 "$BIN" append --enforce --dir "$WORK/logs-local" "${args[@]}")
plain_ms=$(seq_ms 200 "$BIN" append --dir "$WORK/logs-plain" "${args[@]}")
connect_ms=$(seq_ms 200 "$BIN" limit list --dir "$WORK/logs-one" --budget-store-file "$WORK/one.url")
{
    echo
    echo "One CLI call, sequential (200 calls each, ms per call): \`append --enforce\` against the store"
    echo "$shared_ms; against local limits (\`budget/lock\`) $local_ms; a plain \`append\` $plain_ms;"
    echo "\`limit list\` against the store (start-up, connection, one query) $connect_ms. The store's"
    echo "share of an enforced CLI call is the difference to a plain append: one TCP connection with"
    echo "its start-up packet and authentication, and four round trips; loading libpq (\`dlopen\`) is"
    echo "part of both store figures. These sequential figures move by several ms between runs on a"
    echo "machine shared with other builds."
} >> "$out"

# Overspend: a limit of \$0.50 at \$0.01 a call, 3 × PROCS processes trying 10 calls each.
over_lib=0; over_toll=0; worst_lib=0; worst_toll=0
for r in $(seq 1 "$ROUNDS"); do
    fresh race
    $BIN limit set --dir "$WORK/logs-race/host-a" --budget-store-file "$WORK/race.url" --scope global --type cost \
        --max 0.5 --window lifetime >/dev/null
    spendlog_lib race 10 0.01
    accepted=$(cat "$WORK"/out-* | awk '{s += $1} END {print s}')
    (( accepted > 50 )) && over_lib=$((over_lib + 1))
    (( accepted > worst_lib )) && worst_lib=$accepted
    fresh trace
    $VENV/bin/python "$WORK/toll-init.py" "$(url trace)"
    toll_procs trace 10 0.01 0.5
    accepted=$(psql_ trace "SELECT count(*) FROM usage_logs")
    (( accepted > 50 )) && over_toll=$((over_toll + 1))
    (( accepted > worst_toll )) && worst_toll=$accepted
done
{
    echo
    echo "Overspend: a \$0.50 limit, \$0.01 a call, 3 × $PROCS processes trying 10 calls each, from an empty"
    echo "store, $ROUNDS rounds. spendlog: $over_lib rounds over the limit, at most $worst_lib calls accepted (50"
    echo "fit). llm-toll: $over_toll rounds over, at most $worst_toll calls accepted."
} >> "$out"
cat "$out"
scripts/perf-section.sh pg-budget "$out"
