#!/bin/sh
# /init of the boot test's initramfs (tests/boot.rs): mount what a rootfs
# has, run scenario.sh on the serial console, power off.
export PATH=/bin:/usr/bin TZ=UTC LC_ALL=C
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs -o mode=0755 run /run
echo "@@@ init started"
IN= LOGS=/run TTY=ttyS0
. /scenario.sh
sync
poweroff -f
