#!/bin/sh
# A stalled wtmpd must not slow utmpd's readers (part of `make bench`):
# `who` latency while wtmpd runs, then while it is stopped (SIGSTOP) with a
# logout waiting to be sent to it, and the ratio of the two (target: 2x
# at most). Each phase runs `who` for 6 s, across utmpd's 2 s retries.
set -eu
BIN=${1:?usage: bench_stall.sh /path/to/utmpbox}

dir=$(mktemp -d /dev/shm/utmpbox-stall.XXXXXX 2>/dev/null || mktemp -d)
upid= ; wpid= ; spid=
cleanup() {
	[ -n "$wpid" ] && kill -CONT "$wpid" 2>/dev/null
	for p in $upid $wpid $spid; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
export UTMPBOX_RUNDIR="$dir/run" UTMPBOX_LOGDIR="$dir/log"
"$BIN" wtmpd -n 2>"$dir/wtmpd.log" & wpid=$!
"$BIN" utmpd -n -S 0 2>"$dir/utmpd.log" & upid=$!
for _ in $(seq 100); do
	[ -S "$dir/run/utmpd.sock" ] && [ -S "$dir/run/wtmpd.sock" ] && break
	sleep 0.05
done

# Latencies of `who` in microseconds, one a line, for 6 s.
sample() {
	end=$(($(date +%s) + 6))
	while [ "$(date +%s)" -lt "$end" ]; do
		t0=$(date +%s%N)
		"$BIN" who >/dev/null
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
	done
}
stats() { sort -n | awk '{ v[NR] = $1 } END { printf "%d %d\n", v[int((NR + 1) / 2)], v[NR] }'; }

running=$(sample | stats)
# A session whose process ends while wtmpd is stopped: after utmpd's 2 s
# grace its logout waits for wtmpd.
sleep 60 & spid=$!
"$BIN" utmpset -u bench -l pts/99 -p "$spid" login
kill -STOP "$wpid"
kill "$spid"; wait "$spid" 2>/dev/null || true; spid=
sleep 3
stopped=$(sample | stats)
kill -CONT "$wpid"

set -- $running $stopped
printf '%-44s %12s %12s %8s\n' "who with wtmpd stalled" "stopped" "running" "ratio"
printf '%-44s %12s %12s %8s\n' "  median latency, us" "$3" "$1" "$(awk -v a="$3" -v b="$1" 'BEGIN { printf "%.2fx", a / b }')"
printf '%-44s %12s %12s %8s\n' "  worst latency, us" "$4" "$2" "$(awk -v a="$4" -v b="$2" 'BEGIN { printf "%.2fx", a / b }')"
