#!/bin/sh
# Install what the tests and benchmarks compare against, when missing:
# the peer tools (coreutils who/users, procps w/uptime, util-linux
# last/lastb/utmpdump, shadow lastlog) and the helpers the tests use
# (s6 runs the shipped service definitions; small filesystems for the
# full-disk tests; GNU time; rsyslog for wtmpd --syslog).
set -e
missing=""
need() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need who coreutils
need w procps
need uptime procps
need last util-linux
need utmpdump util-linux
need lastlog login
need file file
need unshare util-linux
need script bsdutils
need setpriv util-linux
need s6-supervise s6
need mkfs.ext4 e2fsprogs
need mount mount
# The C API's tests build C programs against glibc and, static, musl
# (tests/capi.rs), and check the installed .pc.
need gcc gcc
need nm binutils
need musl-gcc musl-tools
need pkg-config pkg-config
# The boot tests (tests/boot.rs): qemu boots an initramfs made with cpio
# around Debian's static busybox (the dynamic one, same path, cannot run
# there); debugfs reads the power-loss test's disk image.
need qemu-system-x86_64 qemu-system-x86
need cpio cpio
need debugfs e2fsprogs
dpkg -s busybox-static >/dev/null 2>&1 || missing="$missing busybox-static"
# GNU time measures a reader's peak memory (tests/readers_hardening.rs);
# the shell keyword of the same name cannot.
[ -x /usr/bin/time ] || missing="$missing time"
# libutmpbox's acceptance tests (tests/capi_programs*.rs) also run
# coreutils pinky and libutempter's helper, a third-party writer.
need pinky coreutils
[ -x /usr/lib/x86_64-linux-gnu/utempter/utempter ] || missing="$missing libutempter0"
# A real rsyslogd receives wtmpd's syslog forwarding (tests/syslog.rs);
# the tests run it on scratch sockets and ports, never the system's.
[ -x /usr/sbin/rsyslogd ] || command -v rsyslogd >/dev/null 2>&1 || missing="$missing rsyslog"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$missing (run as root or install them)" >&2
	exit 1
fi
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
