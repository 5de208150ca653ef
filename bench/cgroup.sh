#!/bin/sh
# What the daemon's cgroup ([resources]) adds to a launch of /bin/true,
# paired: in place with and without [resources] (the cgroup made, its
# limit set and daemonbox moved into it before exec; the one the previous
# round left removed first), and supervised (a pidfile) with and without
# a cgroup (the base build, BASE, which has none; default: the parent of the
# commit that added the cgroup package). The first two commands also show
# what linking the cgroup library costs every launch (base against this
# build, both without [resources]).
# Run as root from the repository: bench/cgroup.sh [ROUNDS] [BASE]
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-400}
base=${2:-$(git log --format=%H -1 -- cgroup/cgroup.go | xargs -I{} git rev-parse {}~1)}
out=$(mktemp -d)
trap 'git worktree remove --force "$out/base-src" 2>/dev/null; rm -rf "$out"' EXIT
chmod 755 "$out"
CGO_ENABLED=0 go build -o "$out/daemonbox" ./cmd/daemonbox
git worktree add -q --detach "$out/base-src" "$base"
(cd "$out/base-src" && CGO_ENABLED=0 go build -o "$out/base" ./cmd/daemonbox)
go build -o "$out/launchtime" ./bench/launchtime
cp bench/true.toml "$out/true.toml"
printf '[user]\nuser = "nobody"\n[resources]\nparent = "daemonbox-bench"\npids_max = 64\n' | cat bench/true.toml - > "$out/res.toml"
printf '[daemon]\npidfile = "%s/sup.pid"\n' "$out" | cat bench/true.toml - > "$out/sup.toml"
chmod 644 "$out"/*.toml
"$out/launchtime" -n "$rounds" -copies 4 -- "$out/base" run "$out/true.toml" -- \
	"$out/daemonbox" run "$out/true.toml" -- "$out/daemonbox" run "$out/res.toml" -- \
	"$out/base" run "$out/sup.toml" -- "$out/daemonbox" run "$out/sup.toml"
"$out/daemonbox" stop "$out/res.toml" >/dev/null # the cgroup the last in-place round left
