#!/bin/sh
# Median wall time of launching and reaping /bin/true fully isolated:
# bubblewrap with every namespace, a read-only root, /proc and /dev, against
# daemonbox with bench/isolated.toml (the same confinement, as examples/
# isolated.toml gives busybox httpd), then the same spec with parts taken
# away, which shows where daemonbox's time goes: each Go process image the
# launch needs costs several milliseconds here. Last, the same pair run
# rootless, as the user daemonbox-rootless (the vmtest harness makes it),
# when it exists. Run as root from the repository, with
# examples/make-httpd-root.sh done and bubblewrap installed:
#   bench/isolated.sh [RUNS]
set -eu
cd "$(dirname "$0")/.."
runs=${1:-200}
root=/srv/daemonbox-httpd
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
chmod 755 "$out"
CGO_ENABLED=0 go build -o "$out/daemonbox" ./cmd/daemonbox
go build -o "$out/launchtime" ./bench/launchtime
cp bench/isolated.toml "$out/full.toml"
# Variants, by the Go images each launch runs (supervisor, init stage, daemon's stage):
sed 's/^pid = true/pid = true\ninit = false/' bench/isolated.toml > "$out/no-init.toml"      # 2: no PID 1
sed '/^pid = true/d' bench/isolated.toml > "$out/no-pid.toml"                                # 2: no PID namespace
sed '/^pid = true/d; /^user = true/d' bench/isolated.toml > "$out/in-place.toml"             # 1: exec'd in place
chmod 644 "$out"/*.toml
bwrap="bwrap --unshare-all --die-with-parent --new-session --ro-bind $root / --proc /proc --dev /dev --cap-drop ALL /bin/busybox true"
# The ratio column is against the first command, bubblewrap: the target is
# daemonbox at 1.0x or less.
"$out/launchtime" -n "$runs" -- $bwrap -- \
	"$out/daemonbox" run "$out/full.toml" -- \
	"$out/daemonbox" run "$out/no-init.toml" -- \
	"$out/daemonbox" run "$out/no-pid.toml" -- \
	"$out/daemonbox" run "$out/in-place.toml"
if id daemonbox-rootless >/dev/null 2>&1; then
	echo "rootless, as daemonbox-rootless:"
	user=$(id -u daemonbox-rootless)
	group=$(id -g daemonbox-rootless)
	setpriv --reuid="$user" --regid="$group" --clear-groups \
		"$out/launchtime" -n "$runs" -- $bwrap -- "$out/daemonbox" run "$out/full.toml"
fi
