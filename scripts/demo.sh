#!/bin/sh
# make demo: utmpbox's job end to end, in a scratch directory that is
# removed at exit. Usage: scripts/demo.sh /absolute/path/to/utmpbox
#
# Each step says what it does, then does it. Later steps (the daemons)
# append to this sequence.
set -eu

BIN=${1:?usage: demo.sh /path/to/utmpbox}
work=$(mktemp -d "${TMPDIR:-/tmp}/utmpbox-demo.XXXXXX")
pids=""
cleanup() {
	# The daemons are always stopped, however the demo ends.
	for pid in $pids; do kill "$pid" 2>/dev/null || true; done
	for pid in $pids; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$work"

step() {
	printf '\n== %s\n' "$*"
}

# Run a command whose stderr is only interesting when it fails.
quiet() {
	if ! "$@" 2>stderr.txt; then
		cat stderr.txt >&2
		echo "demo: failed: $*" >&2
		exit 1
	fi
}

step "Install the applet links into $work/bin (utmpbox --install)"
mkdir bin
"$BIN" --install bin
ls bin

step "1. Write a small legacy glibc wtmp from utmpdump text: a boot, logins, logouts"
cat >wtmp.txt <<'EOF'
[2] [00000] [~~  ] [reboot  ] [~           ] [6.1.0-13-amd64      ] [0.0.0.0        ] [2026-11-20T08:00:00,000000+00:00]
[1] [20019] [~~  ] [runlevel] [~           ] [6.1.0-13-amd64      ] [0.0.0.0        ] [2026-11-20T08:00:05,000000+00:00]
[7] [01234] [ts/0] [alice   ] [pts/0       ] [192.168.1.10        ] [192.168.1.10   ] [2026-11-20T09:15:00,000000+00:00]
[7] [01240] [tty1] [bob     ] [tty1        ] [                    ] [0.0.0.0        ] [2026-11-20T09:20:00,000000+00:00]
[8] [01234] [ts/0] [        ] [pts/0       ] [                    ] [0.0.0.0        ] [2026-11-20T10:02:13,000000+00:00]
[7] [01301] [ts/1] [carol   ] [pts/1       ] [2001:db8::7         ] [2001:db8::7    ] [2026-11-20T11:00:00,250000+00:00]
[8] [01240] [tty1] [        ] [tty1        ] [                    ] [0.0.0.0        ] [2026-11-20T12:30:00,000000+00:00]
[8] [01301] [ts/1] [        ] [pts/1       ] [                    ] [0.0.0.0        ] [2026-11-20T12:45:00,000000+00:00]
EOF
echo "\$ utmpdump -r -o wtmp wtmp.txt"
bin/utmpdump -r -o wtmp wtmp.txt
echo "wtmp: $(wc -c <wtmp) bytes = 8 glibc records of 384 bytes"

step "2. Dump it: utmpdump wtmp"
bin/utmpdump wtmp
if command -v utmpdump >/dev/null 2>&1 && utmpdump -V 2>/dev/null | grep -q util-linux; then
	quiet utmpdump wtmp >peer.txt
	quiet bin/utmpdump wtmp >ours.txt
	if cmp -s peer.txt ours.txt; then
		echo "(util-linux $(utmpdump -V | sed 's/.* //') utmpdump prints the same bytes)"
	else
		echo "demo: util-linux utmpdump prints something else:" >&2
		diff peer.txt ours.txt >&2 || true
		exit 1
	fi
fi

step "3. Convert it to utmpbox's native format (utmpdump wtmp | utmpdump -r --format native -o wtmp.native)"
echo "\$ utmpdump wtmp >legacy.txt; utmpdump -r --format native -o wtmp.native legacy.txt"
quiet bin/utmpdump wtmp >legacy.txt
quiet bin/utmpdump -r --format native -o wtmp.native legacy.txt
echo "wtmp.native: $(wc -c <wtmp.native) bytes = a 64-byte header and 8 records of 512 bytes (64-bit times, a CRC each)"
od -A d -c wtmp.native | head -1

step "4. The native file dumps to the same text"
quiet bin/utmpdump wtmp.native >native.txt
echo "\$ cmp legacy.txt native.txt"
cmp legacy.txt native.txt
echo "same text"

step "5. And back to glibc: byte for byte the file we started with"
echo "\$ utmpdump -r --format glibc -o wtmp.back native.txt; cmp wtmp wtmp.back"
quiet bin/utmpdump -r --format glibc -o wtmp.back native.txt
cmp wtmp wtmp.back
echo "nothing changed"

step "6. Past 2038: a login in 2040 fits the native format; glibc's 32-bit times refuse it"
sed 's/2026-11-20T09:15:00/2040-11-20T09:15:00/' wtmp.txt >future.txt
quiet bin/utmpdump -r --format native -o future.native future.txt
quiet bin/utmpdump future.native | grep 2040
echo "\$ utmpdump -r --format glibc -o future.wtmp future.txt"
if bin/utmpdump -r --format glibc -o future.wtmp future.txt; then
	echo "demo: glibc accepted a time after 2038" >&2
	exit 1
fi
test ! -e future.wtmp
echo "(refused, and no half-written future.wtmp was left behind)"

step "7. Start the daemons in the scratch dir: utmpd (sessions) and wtmpd (history, failed logins, lastlog)"
export UTMPBOX_RUNDIR="$work/run" UTMPBOX_LOGDIR="$work/log"
mkdir -p "$UTMPBOX_RUNDIR" "$UTMPBOX_LOGDIR"
# Each daemon writes a newline to fd 3 once it listens (s6 readiness).
start_daemon() {
	mkfifo "$work/$1.ready"
	bin/$1 -d 3 3>"$work/$1.ready" 2>>"$work/$1.log" &
	pids="$pids $!"
	read -r _ <"$work/$1.ready"
	echo "$1 ready (pid $!): $(cat "$work/$1.log" | head -3 | tr '\n' ' ')"
}
start_daemon wtmpd
start_daemon utmpd
ls -l "$UTMPBOX_RUNDIR" "$UTMPBOX_LOGDIR"

step "8. The boot was recorded by the daemons themselves: who -b, last reboot"
echo "\$ who -b"; bin/who -b
echo "\$ last reboot"; bin/last reboot

step "9. Sessions through utmpset: two logins, a logout, a failed login, a wrapped command"
sleep 600 & session1=$!; pids="$pids $session1"
sleep 600 & session2=$!; pids="$pids $session2"
echo "\$ utmpset -u root -l pts/7 -H 192.0.2.10 -A 192.0.2.10 -p $session1 login"
bin/utmpset -u root -l pts/7 -H 192.0.2.10 -A 192.0.2.10 -p "$session1" login
echo "\$ utmpset -u daemon -l tty5 -p $session2 login"
bin/utmpset -u daemon -l tty5 -p "$session2" login
echo "\$ utmpset -u daemon -l tty5 -p $session2 -e 0 logout"
bin/utmpset -u daemon -l tty5 -p "$session2" -e 0 logout
echo "\$ utmpset -u nobody -l ssh:notty -H 203.0.113.7 fail"
bin/utmpset -u nobody -l ssh:notty -H 203.0.113.7 fail
echo "\$ utmpset -u root -l pts/8 run -- sh -c 'echo \"  (the wrapped command runs, recorded as a session)\"; sleep 1'"
bin/utmpset -u root -l pts/8 run -- sh -c 'echo "  (the wrapped command runs, recorded as a session)"; sleep 1'

# util-linux last prints a session that ended in the current second as
# "still running"; give the clock a second so the demo reads naturally.
sleep 1

step "10. Every reader applet, asking the daemons"
for cmd in "who -a" "users" "uptime" "w" "last -x" "lastb" "lastlog -u root" "lastlog -u daemon"; do
	echo "\$ $cmd"
	# shellcheck disable=SC2086
	bin/$cmd || echo "(exit $?)"
done

bin/last -x >last.daemon 2>&1 || true

step "11. What the daemons keep on disk is native: utmpdump reads it directly"
echo "\$ utmpdump $UTMPBOX_LOGDIR/wtmp"
quiet bin/utmpdump "$UTMPBOX_LOGDIR/wtmp"
cat stderr.txt

step "12. Stop the daemons (SIGTERM)"
for pid in $pids; do kill "$pid" 2>/dev/null || true; done
for pid in $pids; do wait "$pid" 2>/dev/null || true; done
pids=""
tail -n 2 "$work/utmpd.log" "$work/wtmpd.log"

step "13. With no daemon, the readers fall back to the files: same output"
echo "\$ last -x"; bin/last -x | tee last.files
cmp last.daemon last.files && echo "(the same bytes as through wtmpd)"

step "Done: the daemons are stopped and the scratch directory $work is removed"
