#!/bin/sh
# What each kernel layer of issue 18 adds to an in-place launch of /bin/true,
# in one interleaved, paired run: the build before the layers (BASE, default
# the commit before the spec gained them), then this build with the filter
# off, with the default filter, with the filter and bench/landlock.toml's
# rules, with the filter and a cgroup ([resources], made and entered before
# exec), and with all three, each as nobody. Each row's paired column is
# against BASE.
# Run as root from the repository: bench/layers.sh [ROUNDS] [BASE]
set -eu
cd "$(dirname "$0")/.."
rounds=${1:-400}
base=${2:-$(git log --format=%H -1 -- spec/seccomp.go | xargs -I{} git rev-parse {}~1)}
out=$(mktemp -d)
trap 'git worktree remove --force "$out/base-src" 2>/dev/null; rm -rf "$out"' EXIT
chmod 755 "$out"
CGO_ENABLED=0 go build -o "$out/daemonbox" ./cmd/daemonbox
git worktree add -q --detach "$out/base-src" "$base"
(cd "$out/base-src" && CGO_ENABLED=0 go build -o "$out/base" ./cmd/daemonbox)
go build -o "$out/launchtime" ./bench/launchtime
# As nobody: [resources] is refused for a daemon that is the host's uid 0
# without a mount namespace.
user='[user]\nuser = "nobody"\n'
res='[resources]\nparent = "daemonbox-bench"\npids_max = 64\nmemory_max = "64MiB"\n'
printf "$user" | cat bench/true.toml - > "$out/filter.toml"
printf "$user[seccomp]\nenabled = false\n" | cat bench/true.toml - > "$out/nofilter.toml"
printf "$user" | cat bench/landlock.toml - > "$out/landlock.toml"
printf "$user$res" | cat bench/true.toml - > "$out/cgroup.toml"
printf "$user$res" | cat bench/landlock.toml - > "$out/all.toml"
chmod 644 "$out"/*.toml
"$out/launchtime" -n "$rounds" -copies 4 -- "$out/base" run "$out/filter.toml" -- \
	"$out/daemonbox" run "$out/nofilter.toml" -- "$out/daemonbox" run "$out/filter.toml" -- \
	"$out/daemonbox" run "$out/landlock.toml" -- "$out/daemonbox" run "$out/cgroup.toml" -- \
	"$out/daemonbox" run "$out/all.toml"
# The cgroups the last in-place rounds left.
"$out/daemonbox" stop "$out/cgroup.toml" >/dev/null
"$out/daemonbox" stop "$out/all.toml" >/dev/null
