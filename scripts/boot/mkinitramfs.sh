#!/bin/sh
# Build a gzipped cpio (newc) initramfs for the boot and power-loss tests.
#   scripts/boot/mkinitramfs.sh BIN INIT OUT [MODULES_DIR]
# It holds: /usr/bin/utmpbox (BIN) and one relative symlink per applet it
# lists, /bin/busybox (Debian's busybox-static) with the few links /init
# uses, /init (INIT) and scenario.sh, /etc/passwd and /etc/group (from
# this directory), empty mount points, and
# MODULES_DIR/*.ko under /lib/modules when given. No device nodes: /init
# mounts devtmpfs before it opens the console, so building needs no root.
set -eu
[ $# -ge 3 ] || { echo "usage: mkinitramfs.sh BIN INIT OUT [MODULES_DIR]" >&2; exit 100; }
bin=$1 init=$2 out=$3 modules=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
busybox=${BUSYBOX:-/bin/busybox}
fail() { echo "mkinitramfs.sh: fatal: $*" >&2; exit 111; }

[ -x "$busybox" ] || fail "no $busybox (apt-get install busybox-static)"
# Debian's dynamic busybox installs the same path; only the static one
# runs in a rootfs with no libc.
if LC_ALL=C readelf -l "$busybox" 2>/dev/null | grep -q 'Requesting program interpreter'; then
	fail "$busybox is dynamically linked (apt-get install busybox-static)"
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/utmpbox-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
# mktemp made it 0700: it becomes /, which every user must enter.
chmod 0755 "$stage"
mkdir -p "$stage/bin" "$stage/usr/bin" "$stage/etc" "$stage/dev" "$stage/proc" \
	"$stage/sys" "$stage/run" "$stage/tmp" "$stage/mnt" "$stage/var/log" "$stage/lib/modules"
cp "$bin" "$stage/usr/bin/utmpbox"
# Listed by the copy: the binary answers to its own name, utmpbox
# (dist/utmpbox-tiny would take its name for an applet's).
applets=$("$stage/usr/bin/utmpbox" --list)
for applet in $applets; do
	ln -s utmpbox "$stage/usr/bin/$applet"
done
cp "$busybox" "$stage/bin/busybox"
# Only what /init calls; busybox's own who/w/last/uptime are not linked,
# and /init calls utmpbox's applets by their full path anyway (busybox sh
# prefers its own applets to PATH).
for tool in sh mount mkdir insmod poweroff sleep cat echo \
	setsid su sync date kill; do
	ln -s busybox "$stage/bin/$tool"
done
cp "$init" "$stage/init"
cp "$here/scenario.sh" "$stage/scenario.sh"
chmod 0755 "$stage/init"
[ -n "$modules" ] && cp "$modules"/*.ko "$stage/lib/modules/"
cp "$here/passwd" "$here/group" "$stage/etc/"
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -6 >"$out"
