# The boot test's scenario, sourced by /init in the qemu guest and by
# chroot.sh on the host. It starts both daemons, records sessions and runs
# every applet, each between marker lines the test reads:
#   @@@ begin NAME  ...output...  @@@ end NAME STATUS
# The caller sets IN (empty in the guest; `chroot DIR` on the host),
# LOGS (where the daemons' stderr goes, as the caller sees it) and TTY
# (the line of the console session: ttyS0 in the guest).
# Applets run by full path: Debian's busybox sh runs its own who, w, last
# and uptime ahead of PATH.

u() { $IN /usr/bin/"$@"; }
section() {
	name=$1
	shift
	echo "@@@ begin $name"
	"$@" 2>&1
	echo "@@@ end $name $?"
}
say() { echo "@@@ $*"; }

# Not through u: a function in the background is a subshell, and $! would
# be its pid, not the daemon's.
$IN /usr/bin/wtmpd 2>"$LOGS/wtmpd.log" &
wtmpd_pid=$!
$IN /usr/bin/utmpd 2>"$LOGS/utmpd.log" &
utmpd_pid=$!
# Wait until both daemons answer a request, then record the boot (the
# daemons record it themselves too; a second record is a no-op).
u utmpset wait -t 10 || say "daemons did not answer within 10 s"
u utmpset boot
say "daemons answered"

# alice: a live session on the console's line, as a login would leave it:
# a process of hers with that line as its controlling terminal.
if [ -n "${TTY:-}" ]; then
	# busybox: su as root asks no password and execs the shell, which
	# execs sleep, so $! stays the session's pid.
	# A login without PAM, as busybox login leaves it: the terminal is
	# the user's and no loginuid is set; last shows the session live
	# from the terminal's owner (util-linux would call it gone,
	# docs/COMPAT.md).
	chown alice "/dev/$TTY"
	setsid -c sh -c 'exec su -s /bin/sh -c "exec sleep 600" alice' \
		<"/dev/$TTY" >/dev/null 2>&1 &
	alice_pid=$!
	alice_line=$TTY
else
	# On the host (util-linux setpriv), outside the chroot.
	sh -c 'echo 1000 >/proc/self/loginuid && exec setpriv --reuid=1000 --regid=1000 --clear-groups sleep 600' \
		</dev/null >/dev/null 2>&1 &
	alice_pid=$!
	alice_line=tty1
fi
section login-alice u utmpset login -u alice -l "$alice_line" -H example.org -p "$alice_pid"
# bob: a session that ended, 5 to 4 minutes ago, and a failed login
# 3 minutes ago. In the past, because last prints "still running" for
# anything that ended in the second it runs (util-linux does the same).
now=$(date +%s)
sleep 600 </dev/null >/dev/null 2>&1 &
bob_pid=$!
section login-bob u utmpset login -u bob -l pts/1 -H 192.0.2.7 -p "$bob_pid" -T $((now - 300))
section logout-bob u utmpset logout -l pts/1 -p "$bob_pid" -T $((now - 240))
kill "$bob_pid"
section fail-mallory u utmpset fail -u mallory -l ttyS1 -H 198.51.100.9 -T $((now - 180))

section who u who
section users u users
section w u w
section uptime u uptime
section last u last
section lastb u lastb
section lastlog u lastlog
section utmpdump u utmpdump /var/log/utmpbox/wtmp

kill "$alice_pid"
section shutdown u utmpset shutdown
kill "$utmpd_pid" "$wtmpd_pid"
wait "$utmpd_pid" "$wtmpd_pid"
section daemon-logs cat "$LOGS/wtmpd.log" "$LOGS/utmpd.log"
say "scenario done"
