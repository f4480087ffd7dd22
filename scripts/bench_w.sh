#!/bin/sh
# Speed of utmpbox's w against procps-ng's w with 20 sessions on real ptys
# and 5,000 other (sleeping) processes: the median wall time of N runs of
# each, interleaved, in a private mount namespace whose /run/utmp lists the
# 20 sessions. Needs root (unshare -m) and util-linux's script/utmpdump.
#   scripts/bench_w.sh [BIN] [N]
# Prints: w (20 sessions, 5000 procs): utmpbox 12.3 ms, procps 340.5 ms, ratio 27.7x
# (ratio = procps / utmpbox, so above 1 means utmpbox is faster).
set -e
BIN=${1:-target/x86_64-unknown-linux-musl/release/utmpbox}
N=${2:-9}
SESSIONS=20
PROCS=5000
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
[ -x "$BIN" ] || { echo "bench_w: no binary at $BIN (run make)" >&2; exit 1; }
for tool in w script utmpdump unshare setsid; do
	command -v $tool >/dev/null || { echo "bench_w: $tool needed" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "bench_w: needs root (unshare -m)" >&2; exit 1; }

work=$(mktemp -d)
mkdir "$work/bin"
"$BIN" --install "$work/bin"
crowd_pgid=
cleanup() {
	# The crowd is one process group; each session is its own session.
	[ -n "$crowd_pgid" ] && kill -KILL "-$crowd_pgid" 2>/dev/null || :
	for pid in $(cat "$work/session-pids" "$work/login-pids" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null || :
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# 20 sessions: `script` gives each sleep a pty of its own.
i=0
while [ $i -lt $SESSIONS ]; do
	setsid script -qfc "sleep 900" /dev/null </dev/null >/dev/null 2>&1 &
	echo $! >> "$work/session-pids"
	i=$((i + 1))
done

# 5,000 sleeping processes in one process group (bounded: they end by
# themselves after 15 minutes, and are killed on exit).
setsid sh -c "i=0; while [ \$i -lt $PROCS ]; do sleep 900 & i=\$((i + 1)); done; wait" \
	</dev/null >/dev/null 2>&1 &
crowd_pgid=$!
sleep 1
tries=0
while [ "$(pgrep -c -g "$crowd_pgid" sleep 2>/dev/null || echo 0)" -lt $PROCS ]; do
	tries=$((tries + 1))
	[ $tries -lt 120 ] || { echo "bench_w: could not start $PROCS processes" >&2; exit 1; }
	sleep 1
done

# The utmp table: one USER_PROCESS per session, pid = the process script
# started on its pty (the session leader there).
: > "$work/utmp.txt"
for sid in $(cat "$work/session-pids"); do
	pid=$(pgrep -P "$sid" | head -1)
	[ -n "$pid" ] || { echo "bench_w: script $sid has no child" >&2; exit 1; }
	echo "$pid" >> "$work/login-pids"
	tty=$(readlink "/proc/$pid/fd/0")
	line=${tty#/dev/}
	printf '[7] [%05d] [%-4.4s] [root    ] [%-12s] [bench.example.org   ] [10.0.0.1       ] [2026-11-26T10:00:00,000000+00:00]\n' \
		"$pid" "$(echo "$line" | tail -c 5)" "$line" >> "$work/utmp.txt"
done
utmpdump -r < "$work/utmp.txt" > "$work/utmp" 2>/dev/null

cat > "$work/measure.sh" <<EOF
set -e
mount -t tmpfs tmpfs /run
cp "$work/utmp" /run/utmp
export LC_ALL=C TZ=UTC COLUMNS=200 UTMPBOX_RUNDIR="$work/none"
rows=\$(w -h | wc -l)
ours_rows=\$("$work/bin/w" -h | wc -l)
[ "\$rows" = $SESSIONS ] && [ "\$ours_rows" = $SESSIONS ] || {
	echo "bench_w: expected $SESSIONS rows, procps \$rows, utmpbox \$ours_rows" >&2; exit 1; }
j=0
while [ \$j -lt $N ]; do
	a=\$(date +%s%N); "$work/bin/w" > /dev/null; b=\$(date +%s%N)
	echo \$((b - a)) >> "$work/ours"
	a=\$(date +%s%N); w > /dev/null; b=\$(date +%s%N)
	echo \$((b - a)) >> "$work/theirs"
	j=\$((j + 1))
done
EOF
unshare -m sh "$work/measure.sh"

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1e6 }'; }
ours=$(median "$work/ours")
theirs=$(median "$work/theirs")
awk -v o="$ours" -v t="$theirs" -v s=$SESSIONS -v p=$PROCS \
	'BEGIN { printf "w (%d sessions, %d procs): utmpbox %s ms, procps %s ms, ratio %.1fx\n", s, p, o, t, t / o }'
