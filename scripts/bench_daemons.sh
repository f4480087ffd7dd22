#!/bin/sh
# Daemon benchmarks (part of `make bench`): utmp put and whole-table read
# rates, durable wtmp append rate with 1 and 32 writers, and each daemon's
# RSS idle and under load, against skarnet utmps measured on this machine.
# History (wtmp) lives on disk (/var/tmp), so every fsync is real; utmp
# lives on tmpfs (/dev/shm) as it does under /run in production.
set -eu
BIN=${1:?usage: bench_daemons.sh /path/to/utmpbox}
here=$(cd "$(dirname "$0")" && pwd)

# skarnet utmps 0.1.3.4 under s6-ipcserver, same machine, same durability.
SKARNET_PUT=4600        # pututxline/s on one connection
SKARNET_GETENT=13600    # getutxent records/s
SKARNET_APPEND=770      # durable wtmp appends/s

dir=$(mktemp -d /var/tmp/utmpbox-bench.XXXXXX)
run=$(mktemp -d /dev/shm/utmpbox-bench.XXXXXX 2>/dev/null || echo "$dir/run")
upid= ; wpid=
cleanup() {
	[ -n "$upid" ] && kill "$upid" 2>/dev/null
	[ -n "$wpid" ] && kill "$wpid" 2>/dev/null
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
append1=$("$c" append "$run/wtmpd.sock" 1 3000)
append32=$("$c" append "$run/wtmpd.sock" 32 32000)
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
printf '%-44s %12s %12s %8s\n' "durable wtmp append, 1 writer, /s" "$append1" "$SKARNET_APPEND" "$(ratio "$append1" "$SKARNET_APPEND")"
printf '%-44s %12s %12s %8s\n' "durable wtmp append, 32 writers, /s" "$append32" "$SKARNET_APPEND" "$(ratio "$append32" "$SKARNET_APPEND")"
printf '%-44s %12s\n' "utmpd RSS idle / peak under load, KiB" "$u_idle / $u_load"
printf '%-44s %12s\n' "wtmpd RSS idle / peak under load, KiB" "$w_idle / $w_load"
