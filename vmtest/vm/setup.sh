#!/bin/sh
# Sets up the kernel tests' VM mode (vmtest/vm), once, on Debian or Ubuntu:
# installs QEMU and what the guest is built from (a static busybox, gcc
# with static glibc for the probe, crun for the OCI test), with sudo when
# not root, and extracts the guest kernel, Debian's stock linux-image-amd64,
# into ~/.cache/daemonbox-vmtest/vmlinuz (or $DAEMONBOX_VMTEST_KERNEL).
#
# The kernel comes from Debian 13 (trixie, Linux 6.12, Landlock ABI 6)
# whatever this host runs: Debian 12's 6.1 has Landlock ABI 2, without the
# truncate right and TCP rules that the Landlock tests require. apt reads
# trixie's package list into a directory of its own, under the cache
# directory: the host's apt sources and state are left as they are.
# Usage: vmtest/vm/setup.sh     then: go test -count=1 ./vmtest
set -eu
packages="qemu-system-x86 busybox-static gcc libc6-dev crun"
suite=${DAEMONBOX_VMTEST_SUITE:-trixie}
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
if ! command -v qemu-system-x86_64 >/dev/null || ! [ -x /bin/busybox ] || ! command -v gcc >/dev/null; then
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $packages >/dev/null
fi
cache=${XDG_CACHE_HOME:-$HOME/.cache}/daemonbox-vmtest
kernel=${DAEMONBOX_VMTEST_KERNEL:-$cache/vmlinuz}
if [ -s "$kernel" ]; then
	echo "guest kernel: $kernel (remove it to fetch the current one)"
	exit 0
fi
apt="$cache/apt"
mkdir -p "$apt/lists/partial" "$apt/archives/partial"
echo "deb http://deb.debian.org/debian $suite main" >"$apt/sources.list"
set -- -o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null \
	-o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt" -o Dir::State::Status=/dev/null \
	-o APT::Sandbox::User="$(id -un)" -o Debug::NoLocking=1
apt-get "$@" -qq update
# linux-image-amd64 is a metapackage: the kernel is in the one it depends on.
image=$(apt-cache "$@" depends linux-image-amd64 | sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1)
if [ -z "$image" ]; then
	echo "setup.sh: $suite has no linux-image-amd64" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Up to Debian 13 the image package holds /boot/vmlinuz-VERSION; later
# ones (forky's 7.x) hold it in linux-binary-VERSION, as
# /usr/lib/modules/VERSION/vmlinuz.
packages=$image
binary=$(apt-cache "$@" depends "$image" | sed -n 's/^ *Depends: \(linux-binary-[^ ]*\)$/\1/p' | head -n 1)
[ -z "$binary" ] || packages="$image $binary"
# shellcheck disable=SC2086 # two package names at most
(cd "$tmp" && apt-get "$@" -qq download $packages) || {
	echo "setup.sh: apt-get download $packages failed" >&2
	exit 1
}
mkdir -p "$(dirname "$kernel")"
for deb in "$tmp"/*.deb; do
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './boot/vmlinuz-*' './usr/lib/modules/*/vmlinuz' 2>/dev/null || true
done
found=$(find "$tmp/boot" "$tmp/usr/lib/modules" -name 'vmlinuz*' -type f 2>/dev/null | head -n 1)
if [ -z "$found" ]; then
	echo "setup.sh: no vmlinuz in $packages" >&2
	exit 1
fi
cp "$found" "$kernel.new"
mv "$kernel.new" "$kernel"
echo "$image" >"$kernel.version"
echo "guest kernel: $kernel ($image from Debian $suite)"
