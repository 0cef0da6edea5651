#!/usr/bin/env bash
# Runs a test command with a time limit, its output in a log file.
#
#   scripts/watchdog.sh [--echo] SECONDS LOG command [arguments...]
#
# With --echo, the log is also printed as it is written.
# When the command is still running after SECONDS, the script prints what is stuck instead of
# waiting on: the tests that started and did not end (from the test library's "started" and
# "passed"/"failed"/"skipped" lines), the processes of the run with their state and the kernel
# function they wait in, and the stacks of their threads (gdb, when installed). Then it kills
# them all and exits 124. Otherwise it exits with the command's status. Interrupted, it stops the
# run too. The log is left for reading either way.
#
# The processes of the run are those whose environment holds the run's own SPENDLOG_WATCHDOG_RUN:
# the command and everything it starts, daemons that left its process tree (a test's PostgreSQL
# server) included.
set -uo pipefail

echo=false
if [[ $1 == --echo ]]; then echo=true; shift; fi
limit=$1
log=$2
shift 2

run="$$-$RANDOM$RANDOM"
# The log is emptied before the command and `tail` start: `tail` never shows a previous run's.
: > "$log"
SPENDLOG_WATCHDOG_RUN=$run "$@" >> "$log" 2>&1 &
leader=$!
if $echo; then tail -n +1 -f --pid="$leader" "$log" & fi

# The processes of the run, oldest first.
processes() {
	local environ pid
	for environ in /proc/[0-9]*/environ; do
		pid=${environ#/proc/}
		pid=${pid%/environ}
		if grep -qzx "SPENDLOG_WATCHDOG_RUN=$run" "$environ" 2>/dev/null; then echo "$pid"; fi
	done | sort -n
}

stop_run() {
	local pids
	pids=$(processes)
	[[ -n $pids ]] && kill -KILL $pids 2>/dev/null
}
trap 'stop_run; exit 130' INT TERM HUP

start=$SECONDS
while kill -0 "$leader" 2>/dev/null; do
	if (( SECONDS - start >= limit )); then
		pids=$(processes)
		# Stopped first: the stacks are taken of a run that stands still, and no process ends and
		# hands its number on while they are taken.
		[[ -n $pids ]] && kill -STOP $pids 2>/dev/null
		echo "watchdog: still running after ${limit} s: $*"
		echo "watchdog: tests that started and did not end:"
		comm -23 <(grep -oE '(Test|Suite) [^ ]+ started' "$log" | sed -E 's/ started$//' | sort -u) \
			<(grep -oE '(Test|Suite) [^ ]+ (passed|failed|skipped)' "$log" | sed -E 's/ (passed|failed|skipped)$//' | sort -u) \
			| sed 's/^/  /'
		echo "watchdog: processes of the run (pid, parent, state, waiting in, elapsed, command):"
		[[ -n $pids ]] && ps -o pid=,ppid=,stat=,wchan:24=,etime=,args= -p "$(echo $pids | tr ' ' ',')" \
			| cut -c1-200 | sed 's/^/  /'
		if command -v gdb > /dev/null; then
			# At most 8 processes, 20 s each: the stacks must not hold the run up much longer.
			for pid in $(echo $pids | tr ' ' '\n' | head -n 8); do
				echo "watchdog: stacks of $pid ($(ps -o comm= -p "$pid"))"
				timeout 20 gdb -p "$pid" -batch -nx -ex 'set pagination off' -ex 'thread apply all bt 12' 2>/dev/null \
					| grep -E '^(Thread|#)' | cut -c1-200 | sed 's/^/  /'
			done
		fi
		stop_run
		wait 2>/dev/null
		exit 124
	fi
	sleep 2
done
wait "$leader"
status=$?
wait
exit $status
