#!/usr/bin/env bash
# CLI start-up: one `spendlog append` per process, as a script in another language records each
# LLM call. The release build the Makefile makes (SPENDLOG_FAST_START, Package.swift) next to a
# plain `swift build -c release --static-swift-stdlib` of the same sources (built once into
# .build/bench-startup/) and /bin/true, run alternately; wall time, CPU time and page faults per
# process. Writes the "startup" section of docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export SPENDLOG_FAST_START=1  # the release build the Makefile makes (Package.swift)
ROUNDS=${ROUNDS:-9}
CALLS=${CALLS:-200}
swift build -c release --static-swift-stdlib --product spendlog >/dev/null
FAST=$PWD/.build/release/spendlog
env -u SPENDLOG_FAST_START swift build -c release --static-swift-stdlib --product spendlog \
    --scratch-path .build/bench-startup >/dev/null
PLAIN=$PWD/.build/bench-startup/release/spendlog
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
OUT=$WORK/section.md

python3 - "$ROUNDS" "$CALLS" "$WORK" "$FAST" "$PLAIN" >"$WORK/rows" <<'PY'
import os, resource, statistics, subprocess, sys, time
rounds, calls, work, fast, plain = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
args = ["append", "--project", "bench", "--model", "gpt-4.1-mini", "--input-tokens", "1200",
        "--output-tokens", "80", "--fsync", "none"]
runs = {"true": ["/bin/true"], "plain": [plain], "fast": [fast]}
figures = {name: {"wall": [], "cpu": [], "faults": []} for name in runs}
null = os.open(os.devnull, os.O_WRONLY)
# The built-in price table, whatever price file the person running the benchmark has.
environment = dict(os.environ, SPENDLOG_PRICES="", XDG_CONFIG_HOME=os.path.join(work, "config"))
for r in range(rounds):
    for name, command in runs.items():
        log = os.path.join(work, f"log-{name}")
        argv = command if name == "true" else command + ["append", "--dir", log] + args[1:]
        if name != "true":
            subprocess.run(argv, stdout=null, env=environment, check=True)  # the log exists before the timed calls
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        for _ in range(calls):
            pid = os.posix_spawn(argv[0], argv, environment, file_actions=[(os.POSIX_SPAWN_DUP2, null, 1)])
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"{argv[0]} ended with {os.waitstatus_to_exitcode(status)} (negative: killed by that signal)")
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        figures[name]["wall"].append(wall * 1000 / calls)
        figures[name]["cpu"].append((after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) * 1000 / calls)
        figures[name]["faults"].append((after.ru_minflt - before.ru_minflt) / calls)
for name in runs:
    f = figures[name]
    print(name, *(f"{statistics.median(f[k]):.2f}" for k in ("wall", "cpu")), f"{statistics.median(f['faults']):.0f}")
PY

read -r _ t_wall t_cpu t_faults < <(grep '^true ' "$WORK/rows")
read -r _ p_wall p_cpu p_faults < <(grep '^plain ' "$WORK/rows")
read -r _ f_wall f_cpu f_faults < <(grep '^fast ' "$WORK/rows")
libs() { ldd "$1" | grep -c '=>' || true; }
# What the loader and the runtime do at start, counted on the binaries themselves.
size=$(readelf -S -W "$PLAIN" | grep -o 'swift5_protocol_conformances .*' | awk '{ print $5 }')
conformances=$((16#$size / 4))
one_append() {  # one_append VARIABLE BINARY — the timed command once, with the loader's debug output on
    env "$1" "$2" append --dir "$WORK/loader" --project bench --model gpt-4.1-mini --input-tokens 1200 \
        --output-tokens 80 --fsync none 2>&1 >/dev/null
}
stdcxx_bindings() { one_append LD_DEBUG=bindings "$1" | grep -c 'libstdc++[^ ]* \[[0-9]*\] to .*libstdc++' || true; }
relative_relocs() { one_append LD_DEBUG=statistics "$1" | awk '/number of relative relocations/ { n = $NF } END { print n }'; }
p_bind=$(stdcxx_bindings "$PLAIN"); f_bind=$(stdcxx_bindings "$FAST")
p_rel=$(relative_relocs "$PLAIN"); f_rel=$(relative_relocs "$FAST")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
{
    echo "## CLI start-up"
    echo
    echo "Command: \`make bench\` (scripts/bench-startup.sh), $CALLS processes per run, each a priced \`spendlog append --fsync none\`"
    echo "started with posix_spawn from one Python process; the three alternately, $ROUNDS rounds, medians."
    echo "Machine: $(scripts/machine.sh)."
    echo
    echo "| build | wall time per process | CPU time (user + system) | page faults | shared libraries |"
    echo "|---|---|---|---|---|"
    echo "| \`swift build -c release --static-swift-stdlib\` | $p_wall ms | $p_cpu ms | $p_faults | $(libs "$PLAIN") |"
    echo "| the same with \`SPENDLOG_FAST_START=1\` (\`make build\`) | $f_wall ms | $f_cpu ms | $f_faults | $(libs "$FAST") |"
    echo "| \`/bin/true\` | $t_wall ms | $t_cpu ms | $t_faults | $(libs /bin/true) |"
    echo
    echo "The \`make build\` binary takes $(ratio "$f_wall" "$p_wall")× the wall time of the plain build and $(ratio "$f_cpu" "$p_cpu")× its CPU time."
    echo "\`SPENDLOG_FAST_START\` (Package.swift) builds the release CLI"
    echo
    echo "- with concrete generic metadata from accessor functions (\`-disable-concrete-type-metadata-mangled-name-accessors\`):"
    echo "  the default demangles a type's name at its first use, and looks each conformance it needs up by a"
    echo "  scan of every conformance record in the binary ($conformances);"
    echo "- with libstdc++ and libzstd linked in from their static archives (scripts/link): the dynamic"
    echo "  loader neither maps them nor binds their symbols; libstdc++ alone has $p_bind bindings to itself at"
    echo "  every start of the plain build ($f_bind in this one);"
    echo "- as a position-dependent executable: $f_rel relative relocations at start instead of $p_rel, and no copy"
    echo "  of the pages they would write. ASLR still places the stack, the heap and the shared"
    echo "  libraries at random; \`spendlog-serve\`, which takes requests from the network, stays position-independent."
    echo
    echo "The append itself parses no price file: the built-in table's lines for the model's candidate names"
    echo "are decoded, no other (\`PriceTable.builtin(forModels:)\`), and the arguments of a plain \`append\`"
    echo "are read without the argument parser (\`AppendFastPath\`)."
} >"$OUT"
scripts/perf-section.sh startup "$OUT"
cat "$OUT"
