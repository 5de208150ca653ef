#!/bin/sh
# What the syscall filter adds to a launch: /bin/true under the hardened
# minimal spec (bench/true.toml, whose default filter is on) against the
# same spec with [seccomp] enabled = false, paired. The difference is the
# filter's build in the plan, its load in the last step, and /bin/true's own
# system calls run through it. The nobody pair shows the same with the uid
# change. Run as root from the repository: bench/seccomp.sh [ROUNDS]
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-400}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
chmod 755 "$out"
CGO_ENABLED=0 go build -o "$out/daemonbox" ./cmd/daemonbox
go build -o "$out/launchtime" ./bench/launchtime
cp bench/true.toml "$out/on.toml"
printf '[seccomp]\nenabled = false\n' | cat bench/true.toml - > "$out/off.toml"
printf '[user]\nuser = "nobody"\n' | cat bench/true.toml - > "$out/on-nobody.toml"
printf '[seccomp]\nenabled = false\n' | cat "$out/on-nobody.toml" - > "$out/off-nobody.toml"
chmod 644 "$out"/*.toml
# The first command, the filter off, is the base of the ratio and paired columns.
"$out/launchtime" -n "$rounds" -copies 4 -- "$out/daemonbox" run "$out/off.toml" -- "$out/daemonbox" run "$out/on.toml" \
	-- "$out/daemonbox" run "$out/off-nobody.toml" -- "$out/daemonbox" run "$out/on-nobody.toml"
# The filter's build and load alone, in-process.
go test -run '^$' -bench . -benchtime 2000x ./seccomp
