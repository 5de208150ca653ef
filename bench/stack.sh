#!/bin/sh
# Every goroutine stack growth during in-place launches of /bin/true, with
# the function that needed the room. A launch should show one growth only,
# 2 KiB to 4 KiB in internal/godebug's initializer, which every Go program
# pays; a growth to 8 KiB in daemonbox's code copies every frame of the
# launch (docs/design.md, "What a launch costs"). A uprobe on
# runtime.copystack records the new size (%bx) and the goroutine's saved pc
# (+64(%ax)), as Go's register ABI on amd64 passes them.
# Run as root from the repository, on amd64: bench/stack.sh [SPEC] [RUNS]
set -eu
cd "$(dirname "$0")/.."
spec=${1:-bench/true.toml}
runs=${2:-5}
tracefs=/sys/kernel/tracing
out=$(mktemp -d)
was_on=
cleanup() {
	echo 0 >"$tracefs/events/uprobes/daemonbox_copystack/enable" 2>/dev/null || true
	echo '-:daemonbox_copystack' >>"$tracefs/uprobe_events" 2>/dev/null || true
	[ -z "$was_on" ] || echo "$was_on" >"$tracefs/tracing_on"
	rm -rf "$out"
}
trap cleanup EXIT
CGO_ENABLED=0 go build -o "$out/daemonbox" ./cmd/daemonbox
addr=$(go tool nm "$out/daemonbox" | awk '$3 == "runtime.copystack" { print $1 }')
# The text segment is linked at 0x400000 and loaded from file offset 0.
offset=$(printf '0x%x' $((0x$addr - 0x400000)))
echo "p:daemonbox_copystack $out/daemonbox:$offset newsize=%bx:u64 pc=+64(%ax):x64" >>"$tracefs/uprobe_events"
echo 1 >"$tracefs/events/uprobes/daemonbox_copystack/enable"
was_on=$(cat "$tracefs/tracing_on")
echo 1 >"$tracefs/tracing_on"
echo >"$tracefs/trace"
i=0
while [ "$i" -lt "$runs" ]; do
	"$out/daemonbox" run "$spec" >/dev/null
	i=$((i + 1))
done
echo 0 >"$tracefs/events/uprobes/daemonbox_copystack/enable"
grep -o 'newsize=[0-9]* pc=0x[0-9a-f]*' "$tracefs/trace" | sort | uniq -c | while read -r count size pc; do
	printf "%4d of %d launches: grew to %s bytes, in %s\n" "$count" "$runs" "${size#newsize=}" \
		"$(echo "${pc#pc=}" | go tool addr2line "$out/daemonbox" | head -1)"
done
