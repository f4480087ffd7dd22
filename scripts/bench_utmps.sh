#!/bin/sh
# utmps protocol benchmark (part of `make bench`): what a program linked
# with libutmps sees when utmpd serves `--utmps-socket`: pututxline on one
# connection ('E' + 400-byte utmpx, 1-byte answer; libutmps keeps one
# connection from setutxent to endutxent) and a whole-table getutxent
# ('r', then 'e' until ESRCH), against skarnet utmps-utmpd.
# The tables live on tmpfs (/dev/shm), as they do under /run.
#
# utmps is not packaged for Debian. With UTMPS_UTMPD=/path/to/utmps-utmpd
# (built from skarnet's source) and s6-ipcserver on PATH, utmps-utmpd runs
# in this run, as its own examples run it (s6-ipcserver, the table in its
# cwd), interleaved with utmpd round by round; otherwise the ratios use
# the numbers below.
set -eu
BIN=${1:?usage: bench_utmps.sh /path/to/utmpbox}
here=$(cd "$(dirname "$0")" && pwd)

# utmps 0.1.2 under s6-ipcserver through libutmps on one connection, as
# issue 10 recorded it; its getutxent rate as issue 4 recorded it.
SKARNET_PUT=14800      # pututxline/s
SKARNET_GETENT=13600   # getutxent records/s
PUTS=100000            # per round, utmpd
UTMPS_PUTS=20000       # per round, utmps-utmpd (about 1 s at its rate)

dir=$(mktemp -d /dev/shm/utmpbox-bench-utmps.XXXXXX 2>/dev/null || mktemp -d /var/tmp/utmpbox-bench-utmps.XXXXXX)
upid= ; spid=
cleanup() {
	# Under set -e a kill of a daemon that already exited would end the
	# shell here, before the rm.
	set +e
	[ -n "$upid" ] && kill "$upid" 2>/dev/null
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

rustc -O --edition 2021 -o "$dir/bench_client" "$here/bench_client.rs"
c="$dir/bench_client"
export UTMPBOX_RUNDIR="$dir/run" UTMPBOX_LOGDIR="$dir/log"
mkfifo "$dir/ready"
"$BIN" utmpd -n -S 0 -d 3 --utmps-socket "$dir/utmpd-utmps.sock" 3>"$dir/ready" 2>"$dir/utmpd.log" & upid=$!
if ! head -c 1 "$dir/ready" >/dev/null || ! [ -S "$dir/utmpd-utmps.sock" ]; then
	echo "bench_utmps: utmpd did not start with --utmps-socket:" >&2
	cat "$dir/utmpd.log" >&2
	exit 1
fi
ours="$dir/utmpd-utmps.sock"

utmps=
if [ -n "${UTMPS_UTMPD:-}" ] && [ -x "$UTMPS_UTMPD" ] && command -v s6-ipcserver >/dev/null 2>&1; then
	mkdir "$dir/utmps"
	(cd "$dir/utmps" && exec s6-ipcserver -1 -- "$dir/utmps/sock" "$UTMPS_UTMPD") >"$dir/utmps/ready" 2>"$dir/utmps/err" &
	spid=$!
	for _ in $(seq 100); do [ -s "$dir/utmps/ready" ] && break; sleep 0.05; done
	utmps="$dir/utmps/sock"
fi

# Three rounds, each measuring utmpd and (when given) utmps back to back,
# so a machine that changes speed moves both; the median of each.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }
for f in put get uput uget; do : >"$dir/r.$f"; done
for _ in 1 2 3; do
	"$c" utmps-put "$ours" "$PUTS" >>"$dir/r.put"
	"$c" utmps-getent "$ours" 2 >>"$dir/r.get"
	if [ -n "$utmps" ]; then
		"$c" utmps-put "$utmps" "$UTMPS_PUTS" >>"$dir/r.uput"
		"$c" utmps-getent "$utmps" 2 >>"$dir/r.uget"
	fi
done
put=$(median <"$dir/r.put"); get=$(median <"$dir/r.get")
base_put=$SKARNET_PUT; base_get=$SKARNET_GETENT; seen="utmps (recorded)"
if [ -n "$utmps" ]; then
	base_put=$(median <"$dir/r.uput"); base_get=$(median <"$dir/r.uget")
	seen="utmps-utmpd (this run)"
fi

printf '%-44s %12s %12s %8s %8s\n' "utmps protocol" "utmpd" "utmps" "ratio" "target"
printf '%-44s %12s %12s %8s %8s\n' "pututxline, 1 connection, /s" "$put" "$base_put" "$(ratio "$put" "$base_put")" "3x"
printf '%-44s %12s %12s %8s %8s\n' "getutxent, whole table (64 entries), rec/s" "$get" "$base_get" "$(ratio "$get" "$base_get")" "10x"
printf '%-44s %s\n' "baseline" "$seen; rounds: utmpd $(tr '\n' ' ' <"$dir/r.put")/ $(tr '\n' ' ' <"$dir/r.get")"
[ -n "$utmps" ] && printf '%-44s %s\n' "" "utmps $(tr '\n' ' ' <"$dir/r.uput")/ $(tr '\n' ' ' <"$dir/r.uget")"
exit 0
