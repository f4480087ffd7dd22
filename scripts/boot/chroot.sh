#!/bin/sh
# The boot test's scenario in a chroot instead of a VM (tests/boot.rs).
#   scripts/boot/chroot.sh BIN ROOT
# ROOT (made here, must not exist) holds only what utmpbox needs:
#   usr/bin/utmpbox and a relative symlink per applet, etc/passwd and
#   etc/group (this directory's), and two mount points: run (a tmpfs, for
#   the sockets and utmp) and proc (for the boot time, uptime and w).
# No shell, no libc, no /dev: every command inside is utmpbox itself; the
# scenario's shell runs outside, on the host. The mounts live in a mount
# namespace of their own (unshare -m) and go with its last process.
set -eu
[ $# -eq 2 ] || { echo "usage: chroot.sh BIN ROOT" >&2; exit 100; }
bin=$1 root=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir "$root"
mkdir -p "$root/usr/bin" "$root/etc" "$root/run" "$root/proc"
cp "$bin" "$root/usr/bin/utmpbox"
# Listed by the copy: the binary answers to its own name, utmpbox
# (dist/utmpbox-tiny would take its name for an applet's).
applets=$("$root/usr/bin/utmpbox" --list)
for applet in $applets; do
	ln -s utmpbox "$root/usr/bin/$applet"
done
cp "$here/passwd" "$here/group" "$root/etc/"
export TZ=UTC LC_ALL=C
exec unshare -m --propagation private sh -c '
	set -u
	root=$1 here=$2
	mount -t tmpfs -o mode=0755 run "$root/run"
	mount -t proc proc "$root/proc"
	IN="chroot $root" LOGS="$root/run" TTY=
	. "$here/scenario.sh"
' chroot.sh "$root" "$here"
