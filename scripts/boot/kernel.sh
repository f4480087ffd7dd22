#!/bin/sh
# Fetch Debian's current cloud kernel once and cache it for the boot and
# power-loss tests; print the cache directory holding it.
#   scripts/boot/kernel.sh [CACHE]    (default $UTMPBOX_KERNEL_CACHE,
#                                      else $HOME/.cache/utmpbox-kernel)
# The directory gets `vmlinuz`, `version` and `modules/` with the virtio
# block modules: the cloud kernel has serial, ext4, tmpfs and devtmpfs
# built in, but virtio_pci and virtio_blk are modules, so the power-loss
# initramfs carries them. The cache lives outside the checkout so a clean
# clone (CI) does not fetch the 27 MB package again.
set -eu
cache=${1:-${UTMPBOX_KERNEL_CACHE:-${HOME:-/root}/.cache/utmpbox-kernel}}
meta=linux-image-cloud-amd64

current() {
	apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -n 1
}
package=$(current)
if [ -z "$package" ]; then
	# A fresh machine may have no package lists yet.
	apt-get update -qq >/dev/null 2>&1 || true
	package=$(current)
fi
if [ -z "$package" ]; then
	echo "kernel.sh: fatal: unable to find the package $meta depends on (apt-cache depends $meta)" >&2
	exit 1
fi
dir=$cache/$package
if [ ! -s "$dir/vmlinuz" ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/utmpbox-kernel.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	# apt-get download as root warns that _apt cannot write here; harmless.
	(cd "$work" && apt-get download -q "$package" >/dev/null 2>&1) || {
		echo "kernel.sh: fatal: unable to download $package (apt-get download)" >&2
		exit 1
	}
	dpkg-deb -x "$work"/*.deb "$work/root"
	version=$(ls "$work/root/lib/modules")
	mkdir -p "$work/out/modules"
	cp "$work/root/boot/vmlinuz-$version" "$work/out/vmlinuz"
	# init-powerloss.sh loads them in dependency order.
	for m in virtio/virtio_ring virtio/virtio virtio/virtio_pci_legacy_dev \
		virtio/virtio_pci_modern_dev virtio/virtio_pci block/virtio_blk; do
		cp "$work/root/lib/modules/$version/kernel/drivers/$m.ko" "$work/out/modules/"
	done
	echo "$version" >"$work/out/version"
	mkdir -p "$cache"
	rm -rf "$dir"
	mv "$work/out" "$dir"
fi
echo "$dir"
