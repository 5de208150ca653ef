#!/bin/sh
# What [landlock] adds to a launch: /bin/true under daemonbox with the
# hardened minimal spec (bench/true.toml) and with the same plus a few
# Landlock rules (bench/landlock.toml), interleaved round by round. The
# paired column of the second row is its median per-round difference from
# the first: the rules' cost (validation, the ABI probe, the ruleset, and
# landlock_restrict_self), which the machine's drift moves less.
# Run as root from the repository: bench/landlock.sh [ROUNDS] [TRIALS]
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-400}
trials=${2:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
CGO_ENABLED=0 go build -o "$out/daemonbox" ./cmd/daemonbox
go build -o "$out/launchtime" ./bench/launchtime
"$out/daemonbox" run bench/landlock.toml # fails here, not in the timing loop, if the rules do not fit this host
for trial in $(seq "$trials"); do
	echo "trial $trial"
	"$out/launchtime" -n "$rounds" -copies 4 -- "$out/daemonbox" run bench/true.toml -- "$out/daemonbox" run bench/landlock.toml
done
