#!/bin/sh
# Daemon benchmarks (part of `make bench`): utmp put and whole-table read
# rates, durable wtmp append rate with 1 and 32 writers, and each daemon's
# RSS idle and under load, against skarnet utmps.
# History (wtmp) lives on disk (/var/tmp), so every fsync is real; utmp
# lives on tmpfs (/dev/shm) as it does under /run in production.
#
# utmps is not packaged for Debian. With UTMPS_WTMPD=/path/to/utmps-wtmpd
# (built from skarnet's source) and s6-ipcserver on PATH, its durable
# appends are measured in this run, interleaved with ours on the same disk;
# otherwise the ratios use the numbers below, measured once on a machine of
# this kind. The disk's own durable write rate is measured either way: one
# synchronous writer can never beat it.
set -eu
BIN=${1:?usage: bench_daemons.sh /path/to/utmpbox}
here=$(cd "$(dirname "$0")" && pwd)

# skarnet utmps under s6-ipcserver, as issue 4 measured it on this kind of
# machine. (Built from source and measured here on 2026-11-27, utmps-wtmpd
# did 673-903 appends/s with 1 writer and 1,234-1,507/s with 32.)
SKARNET_PUT=4600        # pututxline/s on one connection
SKARNET_GETENT=13600    # getutxent records/s
SKARNET_APPEND=770      # durable wtmp appends/s, 1 writer
SKARNET_APPEND32=770    # the same, 32 writers (issue 4's baseline)

dir=$(mktemp -d /var/tmp/utmpbox-bench.XXXXXX)
run=$(mktemp -d /dev/shm/utmpbox-bench.XXXXXX 2>/dev/null || echo "$dir/run")
upid= ; wpid= ; spid=
cleanup() {
	[ -n "$upid" ] && kill "$upid" 2>/dev/null
	[ -n "$wpid" ] && kill "$wpid" 2>/dev/null
	[ -n "$spid" ] && kill "$spid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir" "$run"
}
trap cleanup EXIT INT TERM

rustc -O --edition 2021 -o "$dir/bench_client" "$here/bench_client.rs"
export UTMPBOX_RUNDIR="$run" UTMPBOX_LOGDIR="$dir/log"
"$BIN" wtmpd -n 2>"$dir/wtmpd.log" & wpid=$!
"$BIN" utmpd -n -S 0 2>"$dir/utmpd.log" & upid=$!
for _ in $(seq 100); do
	[ -S "$run/utmpd.sock" ] && [ -S "$run/wtmpd.sock" ] && break
	sleep 0.05
done
sleep 1

kib() { awk -v k="$2" '$1 == k":" { print $2 }' "/proc/$1/status"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1fx", a / b }'; }

u_idle=$(kib "$upid" VmRSS); w_idle=$(kib "$wpid" VmRSS)
c="$dir/bench_client"
put=$("$c" put "$run/utmpd.sock" 200000)
list=$("$c" list "$run/utmpd.sock" 3)

# utmps-wtmpd as its own examples run it: s6-ipcserver, wtmp in the cwd.
utmps=
if [ -n "${UTMPS_WTMPD:-}" ] && [ -x "$UTMPS_WTMPD" ] && command -v s6-ipcserver >/dev/null 2>&1; then
	mkdir "$dir/utmps" && : >"$dir/utmps/wtmp"
	(cd "$dir/utmps" && exec s6-ipcserver -1 -- "$dir/utmps/sock" "$UTMPS_WTMPD") >"$dir/utmps/ready" 2>"$dir/utmps/err" &
	spid=$!
	for _ in $(seq 100); do [ -s "$dir/utmps/ready" ] && break; sleep 0.05; done
	utmps="$dir/utmps/sock"
fi

# One synchronous writer: three rounds, each measuring the disk, utmpbox
# and (when given) utmps back to back, so a disk that changes speed during
# the run moves all three; the median of each is reported.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
: >"$dir/r.disk"; : >"$dir/r.ours"; : >"$dir/r.utmps"
for _ in 1 2 3; do
	"$c" disk "$dir/disk.test" 3000 >>"$dir/r.disk"
	"$c" append "$run/wtmpd.sock" 1 3000 >>"$dir/r.ours"
	[ -n "$utmps" ] && "$c" utmps-append "$utmps" 1 1500 >>"$dir/r.utmps"
done
disk=$(median <"$dir/r.disk"); append1=$(median <"$dir/r.ours")
append32=$("$c" append "$run/wtmpd.sock" 32 32000)
# Client and wtmpd sharing one CPU, tried on each of the first 4 CPUs: on
# a VM each cross-CPU wake-up (the reply, the next request, the disk's
# completion interrupt landing on another vCPU) costs tens of us, more
# than the daemon itself; this line shows the rate without them.
append1_pinned=- ; pinned_cpu=
if command -v taskset >/dev/null 2>&1; then
	for cpu in $(seq 0 $(($(nproc) < 4 ? $(nproc) - 1 : 3))); do
		taskset -pc "$cpu" "$wpid" >/dev/null 2>&1 || continue
		r=$(taskset -c "$cpu" "$c" append "$run/wtmpd.sock" 1 3000)
		if [ "$append1_pinned" = - ] || [ "$r" -gt "$append1_pinned" ]; then
			append1_pinned=$r; pinned_cpu=$cpu
		fi
	done
	taskset -pc "0-$(($(nproc) - 1))" "$wpid" >/dev/null 2>&1 || true
fi
base1=$SKARNET_APPEND; base32=$SKARNET_APPEND32; seen="utmps (recorded)"
if [ -n "$utmps" ]; then
	base1=$(median <"$dir/r.utmps")
	base32=$("$c" utmps-append "$utmps" 32 8000)
	seen="utmps (this run)"
fi
# A ping-pong on a VM is dominated by waking an idle vCPU; the same run
# with client and daemon sharing one CPU shows what the daemon costs.
pinned=-
if command -v taskset >/dev/null 2>&1 && taskset -pc 0 "$upid" >/dev/null 2>&1; then
	pinned=$(taskset -c 0 "$c" put "$run/utmpd.sock" 200000)
fi
u_load=$(kib "$upid" VmHWM); w_load=$(kib "$wpid" VmHWM)

printf '%-44s %12s %12s %8s\n' "daemons" "utmpbox" "utmps" "ratio"
printf '%-44s %12s %12s %8s\n' "utmp put (pututxline), 1 connection, /s" "$put" "$SKARNET_PUT" "$(ratio "$put" "$SKARNET_PUT")"
[ "$pinned" != - ] && printf '%-44s %12s %12s %8s\n' "  same, client and utmpd on one CPU, /s" "$pinned" "$SKARNET_PUT" "$(ratio "$pinned" "$SKARNET_PUT")"
printf '%-44s %12s %12s %8s\n' "utmp whole-table read (65 entries), rec/s" "$list" "$SKARNET_GETENT" "$(ratio "$list" "$SKARNET_GETENT")"
printf '%-44s %12s %12s %8s\n' "durable wtmp append, 1 writer, /s" "$append1" "$base1" "$(ratio "$append1" "$base1")"
[ "$append1_pinned" != - ] && printf '%-44s %12s %12s %8s\n' "  same, both on CPU $pinned_cpu (best CPU), /s" "$append1_pinned" "$base1" "$(ratio "$append1_pinned" "$base1")"
printf '%-44s %12s %12s %8s\n' "  the disk alone: durable 4 KiB writes/s" "$disk" "$base1" "$(ratio "$disk" "$base1")"
printf '%-44s %12s %12s %8s\n' "durable wtmp append, 32 writers, /s" "$append32" "$base32" "$(ratio "$append32" "$base32")"
printf '%-44s %s\n' "append baseline" "$seen; 1 writer = $(awk -v a="$append1" -v d="$disk" 'BEGIN { printf "%d%%", 100 * a / d }') of the disk's own rate"
printf '%-44s %12s\n' "utmpd RSS idle / peak under load, KiB" "$u_idle / $u_load"
printf '%-44s %12s\n' "wtmpd RSS idle / peak under load, KiB" "$w_idle / $w_load"
