#!/bin/sh
# What a daemon can reach: the probe's `syscalls` mode (vmtest/probe/probe.c,
# each risky call tried in a child of its own) run as uid 65534 with no
# capabilities under
#   - nothing else (setpriv), what the kernel itself answers nobody;
#   - daemonbox run, defaults (seccomp on), and the same with the filter off;
#   - bwrap --unshare-all, started by nobody as an unprivileged user does;
#   - runc with Docker's default seccomp profile (github.com/moby/profiles,
#     written into config.json by bench/reach, a module of its own), like
#     `docker run --user 65534:65534 --cap-drop ALL`;
#   - a hardened systemd unit: COMPUTED, NOT RUN. systemd is not PID 1 here,
#     so nothing can start a unit. `reach systemd` takes the unconfined run's
#     answers and overrides each call that the unit's directives decide:
#     SystemCallFilter=@system-service (expanded from `systemd-analyze
#     syscall-filter`; a call outside it gets SystemCallErrorNumber=EPERM),
#     RestrictNamespaces=, LockPersonality=, SystemCallArchitectures=native,
#     RestrictAddressFamilies=, MemoryDenyWriteExecute= as systemd 252
#     documents and implements them (bench/reach/systemd.go says which is
#     which). `systemd-analyze security --offline` rates the unit.
# It prints a markdown table, then a name-by-name comparison of the filters
# over the whole system call table (`reach names`).
#
# Run as root from the repository: bench/reach.sh
# Needs (installs nothing): gcc with static glibc, go, bubblewrap (bwrap),
# runc (1.1 works on this cgroup v1 host), systemd-analyze, setpriv.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "reach.sh: run as root" >&2; exit 1; }
for tool in gcc go bwrap runc systemd-analyze setpriv timeout; do
	command -v "$tool" >/dev/null || { echo "reach.sh: needs $tool" >&2; exit 1; }
done
out=$(mktemp -d)
id=daemonbox-reach-$$
trap 'runc delete --force "$id" >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
trap 'exit 130' INT TERM
chmod 755 "$out"
mkdir -p "$out/bundle/rootfs"
chmod -R 755 "$out/bundle"
probe=$out/bundle/rootfs/probe
gcc -static -O2 -o "$probe" vmtest/probe/probe.c
CGO_ENABLED=0 go build -o "$out/daemonbox" ./cmd/daemonbox
(cd bench/reach && go build -o "$out/reach" .)

printf '[process]\ncommand = ["%s", "syscalls"]\n[user]\nuser = "nobody"\n' "$probe" > "$out/on.toml"
printf '[seccomp]\nenabled = false\n' | cat "$out/on.toml" - > "$out/off.toml"
chmod 644 "$out"/*.toml
"$out/reach" docker "$out/bundle/rootfs" "$out/bundle/config.json" /probe syscalls
printf '%s' "$("$out/reach" unit)" > "$out/reach-probe.service"

nobody="setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps=-all --bounding-set=-all"
bwrap="bwrap --unshare-all --die-with-parent --new-session --ro-bind / / --proc /proc --dev /dev --uid 65534 --gid 65534 --cap-drop ALL"

# run NAME COMMAND...: the probe's lines into $out/NAME, bounded, the
# command line shown.
run() {
	name=$1
	shift
	echo "\$ $*" | sed "s|$out|\$TMP|g" >&2
	timeout 120 "$@" < /dev/null > "$out/$name" 2> "$out/$name.err" || true
	grep -q '^end$' "$out/$name" || { echo "reach.sh: $name did not finish:" >&2; cat "$out/$name.err" >&2; }
}
# table DIR FILE...: one row per call in the first file's order, one column
# per file, the words the README uses; a last row counts what works.
table() {
	dir=$1
	shift
	(cd "$dir" && awk '
	function word(r) {
		if (r == "ok") return "works"
		if (r == "EPERM") return "refused (EPERM)"
		if (r == "SIGSYS") return "killed (SIGSYS)"
		if (r == "") return "-"
		return r
	}
	FNR == 1 { col++ }
	$1 == "call" { if (col == 1) order[++rows] = $2; got[col, $2] = $3 }
	END {
		printf "| call | nobody, nothing else | daemonbox defaults | daemonbox, filter off | bwrap --unshare-all | Docker default profile (runc) | hardened systemd unit (computed) |\n"
		printf "|---|---|---|---|---|---|---|\n"
		for (i = 1; i <= rows; i++) {
			printf "| %s |", order[i]
			for (c = 1; c <= col; c++) {
				printf " %s |", word(got[c, order[i]])
				if (got[c, order[i]] == "ok") works[c]++
			}
			printf "\n"
		}
		printf "| **calls that work** |"
		for (c = 1; c <= col; c++) printf " **%d** of %d |", works[c], rows
		printf "\n"
	}' "$@")
}

run plain $nobody "$probe" syscalls
run on "$out/daemonbox" run "$out/on.toml"
run off "$out/daemonbox" run "$out/off.toml"
run bwrap $nobody $bwrap "$probe" syscalls
run docker runc run --bundle "$out/bundle" "$id"
runc delete --force "$id" >/dev/null 2>&1 || true
echo "\$ reach systemd \$TMP/plain   # computed, not run" >&2
"$out/reach" systemd "$out/plain" > "$out/systemd"
echo 'end' >> "$out/systemd"

echo
echo "Unit rated by systemd-analyze security --offline=true (computed column):"
systemd-analyze security --offline=true "$out/reach-probe.service" 2>&1 | tail -n 1 || true
echo
table "$out" plain on off bwrap docker systemd
echo
"$out/reach" names
