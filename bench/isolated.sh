#!/bin/sh
# Median wall time of launching and reaping /bin/true fully isolated:
# bubblewrap with every namespace, a read-only root, /proc and /dev, against
# daemonbox with bench/isolated.toml (the same confinement, as examples/
# isolated.toml gives busybox httpd). Run as root from the repository, with
# examples/make-httpd-root.sh done and bubblewrap installed:
#   bench/isolated.sh [RUNS]
set -eu
cd "$(dirname "$0")/.."
runs=${1:-200}
root=/srv/daemonbox-httpd
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
CGO_ENABLED=0 go build -o "$out/daemonbox" ./cmd/daemonbox
go build -o "$out/launchtime" ./bench/launchtime
# The ratio column is against the first command, bubblewrap: the target is
# daemonbox at 1.0x or less.
"$out/launchtime" -n "$runs" -- \
	bwrap --unshare-all --die-with-parent --new-session --ro-bind "$root" / --proc /proc --dev /dev \
		--cap-drop ALL /bin/busybox true -- \
	"$out/daemonbox" run bench/isolated.toml
