#!/bin/sh
# /init of the power-loss test's initramfs (tests/boot.rs): mount the
# virtio disk (a raw ext4 image made on the host), run wtmpd with its log
# directory there, and have 8 writers append to wtmp until the host kills
# the VM. Each record's host field is its id, `c<cycle>-w<writer>-<n>`;
# a writer prints `@@@ ack ID` only once utmpset returned 0, that is once
# wtmpd acknowledged the record as durable. `cycle` comes from the kernel
# command line (unknown name=value parameters reach init as variables).
export PATH=/bin:/usr/bin TZ=UTC LC_ALL=C
mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs -o mode=0755 run /run
# The cloud kernel has virtio_blk as a module; dependencies first.
for module in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
	insmod "/lib/modules/$module.ko" || echo "@@@ insmod $module failed"
done
tries=0
while [ ! -b /dev/vda ] && [ "$tries" -lt 50 ]; do
	tries=$((tries + 1))
	sleep 0.1
done
# The kernel replays ext4's journal here, as after a real power loss.
if ! mount -t ext4 /dev/vda /mnt; then
	echo "@@@ cannot mount /dev/vda"
	poweroff -f
fi
echo "@@@ mounted cycle ${cycle:-?}"
# wtmpd's messages go to the console: the host counts its repairs.
UTMPBOX_LOGDIR=/mnt/log /usr/bin/wtmpd &
/usr/bin/utmpd &
/usr/bin/utmpset wait -t 10 || echo "@@@ daemons did not answer within 10 s"
echo "@@@ writing"
writer() {
	n=0
	while :; do
		n=$((n + 1))
		id="c${cycle:-0}-w$1-$n"
		# -p 1: init, alive for the whole run, so utmpd never sweeps these
		# sessions into logout records of its own.
		if /usr/bin/utmpset login -u root -l "pts/$1" -H "$id" -p 1 2>/dev/null; then
			echo "@@@ ack $id"
		else
			echo "@@@ refused $id $?"
		fi
	done
}
for w in 1 2 3 4 5 6 7 8; do
	writer "$w" &
done
# Until the host's SIGKILL; should it not come, stop on our own.
sleep 120
echo "@@@ never killed"
poweroff -f
