#!/bin/sh
# Sets up the kernel tests' VM mode (vmtest/vm), once, on Debian or Ubuntu:
# installs QEMU and what the guest is built from (a static busybox, gcc
# with static glibc for the probe, crun for the OCI test), with sudo when
# not root, and extracts the guest kernel from Debian's linux-image-amd64
# into ~/.cache/daemonbox-vmtest/vmlinuz (or $DAEMONBOX_VMTEST_KERNEL).
# Usage: vmtest/vm/setup.sh     then: go test -count=1 ./vmtest
set -eu
packages="qemu-system-x86 busybox-static gcc libc6-dev crun"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
if ! command -v qemu-system-x86_64 >/dev/null || ! [ -x /bin/busybox ] || ! command -v gcc >/dev/null; then
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $packages >/dev/null
fi
kernel=${DAEMONBOX_VMTEST_KERNEL:-${XDG_CACHE_HOME:-$HOME/.cache}/daemonbox-vmtest/vmlinuz}
if [ -s "$kernel" ]; then
	echo "guest kernel: $kernel (remove it to fetch the current one)"
	exit 0
fi
# linux-image-amd64 is a metapackage: the kernel is in the one it depends on.
image=$(apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)
if [ -z "$image" ]; then
	echo "setup.sh: apt-cache knows no linux-image-amd64 (run apt-get update)" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -q "$image" >/dev/null 2>&1) || {
	echo "setup.sh: apt-get download $image failed" >&2
	exit 1
}
mkdir -p "$(dirname "$kernel")"
dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*'
cp "$tmp"/boot/vmlinuz-* "$kernel.new"
mv "$kernel.new" "$kernel"
echo "guest kernel: $kernel ($image)"
