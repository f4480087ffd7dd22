#!/bin/sh
# wtmpd --syslog (part of `make bench`): the durable wtmp append rate of a
# plain wtmpd against one forwarding every record to a TCP receiver that
# accepts and never reads (issue 14: at most 5% slower). Both daemons
# keep wtmp on the same disk (/var/tmp) and are measured in alternating
# rounds, so a disk that changes speed moves both; medians are reported.
set -eu
BIN=${1:?usage: bench_syslog.sh /path/to/utmpbox}
here=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${ROUNDS:-5}
COUNT=${COUNT:-3000}

dir=$(mktemp -d /var/tmp/utmpbox-bench-syslog.XXXXXX)
ppid_= ; fpid= ; kpid=
cleanup() {
	for p in $ppid_ $fpid $kpid; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

rustc -O --edition 2021 -o "$dir/bench_client" "$here/bench_client.rs"
c="$dir/bench_client"
"$c" sink >"$dir/sink.port" & kpid=$!
for _ in $(seq 100); do [ -s "$dir/sink.port" ] && break; sleep 0.05; done
port=$(cat "$dir/sink.port")

mkdir -p "$dir/plain/run" "$dir/fwd/run"
UTMPBOX_RUNDIR="$dir/plain/run" UTMPBOX_LOGDIR="$dir/plain/log" \
	"$BIN" wtmpd -n 2>"$dir/plain.log" & ppid_=$!
UTMPBOX_RUNDIR="$dir/fwd/run" UTMPBOX_LOGDIR="$dir/fwd/log" \
	"$BIN" wtmpd -n --syslog "tcp:127.0.0.1:$port" 2>"$dir/fwd.log" & fpid=$!
for _ in $(seq 100); do
	[ -S "$dir/plain/run/wtmpd.sock" ] && [ -S "$dir/fwd/run/wtmpd.sock" ] && break
	sleep 0.05
done

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
: >"$dir/r.plain1"; : >"$dir/r.fwd1"; : >"$dir/r.plain32"; : >"$dir/r.fwd32"
for _ in $(seq "$ROUNDS"); do
	"$c" append "$dir/plain/run/wtmpd.sock" 1 "$COUNT" >>"$dir/r.plain1"
	"$c" append "$dir/fwd/run/wtmpd.sock" 1 "$COUNT" >>"$dir/r.fwd1"
	"$c" append "$dir/fwd/run/wtmpd.sock" 32 "$((COUNT * 4))" >>"$dir/r.fwd32"
	"$c" append "$dir/plain/run/wtmpd.sock" 32 "$((COUNT * 4))" >>"$dir/r.plain32"
done
plain1=$(median <"$dir/r.plain1"); fwd1=$(median <"$dir/r.fwd1")
plain32=$(median <"$dir/r.plain32"); fwd32=$(median <"$dir/r.fwd32")
slower() { awk -v p="$1" -v f="$2" 'BEGIN { printf "%+.1f%%", 100 * (p - f) / p }'; }
# The forwarding daemon's own account: dropped once the receiver's
# buffers and the queue (4096) were full.
kill -TERM "$fpid" 2>/dev/null || true
wait "$fpid" 2>/dev/null || true
fpid=
stat=$(grep -o 'dropped [0-9]* records.*' "$dir/fwd.log" | tail -1 || true)

printf '%-48s %10s %10s %9s\n' "syslog (tcp receiver that never reads)" "plain" "--syslog" "slower"
printf '%-48s %10s %10s %9s\n' "durable wtmp append, 1 writer, /s" "$plain1" "$fwd1" "$(slower "$plain1" "$fwd1")"
printf '%-48s %10s %10s %9s\n' "durable wtmp append, 32 writers, /s" "$plain32" "$fwd32" "$(slower "$plain32" "$fwd32")"
printf '%-48s %s\n' "forwarding daemon at stop" "${stat:-no drops reported}"
