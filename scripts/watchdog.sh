#!/usr/bin/env bash
# Runs a test command with a time limit, its output in a log file.
#
#   scripts/watchdog.sh [--echo] SECONDS LOG command [arguments...]
#
# With --echo, the log is also printed as it is written.
# When the command is still running after SECONDS, the script prints what is stuck instead of
# waiting on: the tests that started and did not end (from the test library's "started" and
# "passed"/"failed"/"skipped" lines), the command's processes and every process they started,
# with their state and the kernel function they wait in, and the stacks of their threads (gdb,
# when installed). Then it kills them all and exits 124.
# Otherwise it exits with the command's status. The log is left for reading either way.
set -uo pipefail

echo=false
if [[ $1 == --echo ]]; then echo=true; shift; fi
limit=$1
log=$2
shift 2

"$@" > "$log" 2>&1 &
leader=$!
if $echo; then tail -n +1 -f --pid="$leader" "$log" & fi

# The process and all its descendants, parents first.
family() {
	local table
	table=$(ps -e -o pid=,ppid=)
	local pids=("$1") i=0
	while (( i < ${#pids[@]} )); do
		pids+=($(awk -v parent="${pids[$i]}" '$2 == parent { print $1 }' <<< "$table"))
		i=$(( i + 1 ))
	done
	echo "${pids[@]}"
}

waited=0
while kill -0 "$leader" 2>/dev/null; do
	if (( waited >= limit )); then
		echo "watchdog: still running after ${limit} s: $*"
		echo "watchdog: tests that started and did not end:"
		grep -oE '(Test|Suite) [^ ]+ started' "$log" | sed -E 's/ started$//' | sort > "$log.started"
		grep -oE '(Test|Suite) [^ ]+ (passed|failed|skipped)' "$log" \
			| sed -E 's/ (passed|failed|skipped)$//' | sort -u > "$log.ended"
		comm -23 <(sort -u "$log.started") "$log.ended" | sed 's/^/  /'
		echo "watchdog: processes of the run (pid, parent, state, waiting in, elapsed, command):"
		pids=$(family "$leader")
		ps -o pid=,ppid=,stat=,wchan:24=,etime=,args= -p "${pids// /,}" | cut -c1-200 | sed 's/^/  /'
		if command -v gdb > /dev/null; then
			for pid in $pids; do
				echo "watchdog: stacks of $pid ($(ps -o comm= -p "$pid"))"
				timeout 60 gdb -p "$pid" -batch -nx -ex 'set pagination off' -ex 'thread apply all bt 12' 2>/dev/null \
					| grep -E '^(Thread|#)' | cut -c1-200 | sed 's/^/  /'
			done
		fi
		kill -STOP $pids 2>/dev/null
		kill -KILL $(family "$leader") 2>/dev/null
		wait 2>/dev/null
		exit 124
	fi
	sleep 5
	waited=$(( waited + 5 ))
done
wait "$leader"
status=$?
wait
exit $status
