#!/bin/sh
# Median wall time of launching and reaping /bin/true: alone, from a Go
# program that only execs it, from daemonbox built with -tags bigexec (which
# execs it before any work of its own: what the image alone costs), and under
# daemonbox with the hardened minimal spec (which daemonbox applies to itself
# and then execs in place).
# Run as root from the repository: bench/launch.sh [ROUNDS]
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-400}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
CGO_ENABLED=0 go build -o "$out/daemonbox" ./cmd/daemonbox
CGO_ENABLED=0 go build -o "$out/execonly" ./bench/execonly
CGO_ENABLED=0 go build -tags bigexec -o "$out/bigexec" ./cmd/daemonbox
go build -o "$out/launchtime" ./bench/launchtime
# The ratio column is against the first command, the Go program that only
# execs: the target is daemonbox at 1.1x or less. The paired column is the
# median per-round difference from it, which the machine's drift moves less.
# Each program runs as 4 copies of its file, each written with one write
# (how a file entered the page cache changes its launches: docs/design.md,
# "Measuring"). A single copy's time depends on
# where its pages landed (by up to 0.4 ms between identical copies here), and
# 4 average that out.
"$out/launchtime" -n "$rounds" -copies 4 -- "$out/execonly" /bin/true -- /bin/true -- "$out/bigexec" /bin/true -- "$out/daemonbox" run bench/true.toml
