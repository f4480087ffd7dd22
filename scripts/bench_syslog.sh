#!/bin/sh
# wtmpd --syslog (part of `make bench`): the durable wtmp append rate of a
# plain wtmpd against one forwarding every record to a TCP receiver that
# accepts and never reads (issue 14: at most 5% slower). Both daemons
# keep wtmp on the same disk (/var/tmp) and are measured in alternating
# rounds, so a disk that changes speed moves both; the median of the
# per-round differences is reported. On a shared, loaded machine the
# rates swing by tens of percent from round to round, so the daemons'
# own CPU time per append (from /proc, independent of the disk) is
# reported too: it is what forwarding adds.
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
# utime + stime of a process, in clock ticks.
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
slower() { awk -v p="$1" -v f="$2" 'BEGIN { printf "%+.1f%%\n", 100 * (p - f) / p }'; }
: >"$dir/r.plain1"; : >"$dir/r.fwd1"; : >"$dir/r.plain32"; : >"$dir/r.fwd32"
: >"$dir/d1"; : >"$dir/d32"
cpu_plain=$(cpu "$ppid_"); cpu_fwd=$(cpu "$fpid")
for _ in $(seq "$ROUNDS"); do
	p1=$("$c" append "$dir/plain/run/wtmpd.sock" 1 "$COUNT")
	f1=$("$c" append "$dir/fwd/run/wtmpd.sock" 1 "$COUNT")
	f32=$("$c" append "$dir/fwd/run/wtmpd.sock" 32 "$((COUNT * 4))")
	p32=$("$c" append "$dir/plain/run/wtmpd.sock" 32 "$((COUNT * 4))")
	echo "$p1" >>"$dir/r.plain1"; echo "$f1" >>"$dir/r.fwd1"
	echo "$p32" >>"$dir/r.plain32"; echo "$f32" >>"$dir/r.fwd32"
	slower "$p1" "$f1" | tr -d '%+' >>"$dir/d1"
	slower "$p32" "$f32" | tr -d '%+' >>"$dir/d32"
done
cpu_plain=$(($(cpu "$ppid_") - cpu_plain)); cpu_fwd=$(($(cpu "$fpid") - cpu_fwd))
appends=$((ROUNDS * COUNT * 5))
us() { awk -v t="$1" -v n="$appends" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", 1e6 * t / hz / n }'; }
plain1=$(median <"$dir/r.plain1"); fwd1=$(median <"$dir/r.fwd1")
plain32=$(median <"$dir/r.plain32"); fwd32=$(median <"$dir/r.fwd32")
d1=$(median <"$dir/d1"); d32=$(median <"$dir/d32")
# The forwarding daemon's own account: dropped once the receiver's
# buffers and the queue (4096) were full.
kill -TERM "$fpid" 2>/dev/null || true
wait "$fpid" 2>/dev/null || true
fpid=
stat=$(grep -o 'dropped [0-9]* records.*' "$dir/fwd.log" | tail -1 || true)

printf '%-48s %10s %10s %9s\n' "syslog (tcp receiver that never reads)" "plain" "--syslog" "slower"
printf '%-48s %10s %10s %8s%%\n' "durable wtmp append, 1 writer, /s" "$plain1" "$fwd1" "$d1"
printf '%-48s %10s %10s %8s%%\n' "durable wtmp append, 32 writers, /s" "$plain32" "$fwd32" "$d32"
printf '%-48s %10s %10s\n' "wtmpd CPU time per append, us" "$(us "$cpu_plain")" "$(us "$cpu_fwd")"
printf '%-48s %s\n' "forwarding daemon at stop" "${stat:-no drops reported}"
