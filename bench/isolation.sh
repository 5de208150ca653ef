#!/bin/bash
# Launch cost and resident memory of full isolation (issue 20), against
# bubblewrap, crun and runc, with the same root and confinement: busybox's
# /bin/true run as nobody with no capabilities, on a read-only copy of the
# busybox root (examples/make-httpd-root.sh), with /proc and a private /dev.
#
# One launchtime run interleaves every row in shuffled rounds (ROUNDS, at
# least 30; default 150) and prints each row's median wall time (fork, exec,
# run, reap) and the median and p25-p75 of its per-round ratio to bwrap.
# Then each row's real confinement, as a probe script run once under each
# row reports it, and the resident memory (RSS, PSS from smaps_rollup) of
# each launcher's own processes while a busybox sleep runs under it.
#
# The floor row is bench/floor: the one-image launch's kernel steps alone,
# from one Go image with nothing of daemonbox's (no spec, checks, filter or
# supervisor), so that what daemonbox adds shows against it.
#
# daemonbox's root-with-PID-namespace launch is forced onto each of its two
# paths with DAEMONBOX_LAUNCH=one-image or =staged; the staged path runs
# in two images (PID 1 forks the daemon), and once more in three with
# DAEMONBOX_PID1=stage (the daemon's own stage), to compare; the user
# namespace row leaves the choice to daemonbox. crun refuses this host's hybrid cgroups
# ("cgroups in hybrid mode not supported"), so the whole script re-runs
# itself in a private mount namespace without the empty cgroup2 mount at
# /sys/fs/cgroup/unified: crun and runc then see (and use) plain cgroup v1,
# and no row pays for the namespace.
#
# Run as root from the repository: bench/isolation.sh [ROUNDS]
# Needs bwrap, crun, runc, catatonit and a static busybox; installs nothing.
set -eu
self=$(readlink -f "$0")
rounds=${1:-150}
case $rounds in '' | *[!0-9]*)
	echo "usage: bench/isolation.sh [ROUNDS]" >&2
	exit 2
	;;
esac
if [ "$rounds" -lt 30 ]; then
	echo "isolation.sh: $rounds rounds: at least 30" >&2
	exit 2
fi
if [ "$(id -u)" != 0 ]; then
	echo "isolation.sh: run as root" >&2
	exit 1
fi
missing=
for tool in bwrap:bubblewrap crun:crun runc:runc catatonit:catatonit busybox:busybox-static; do
	command -v "${tool%%:*}" >/dev/null || missing="$missing ${tool#*:}"
done
if [ -n "$missing" ]; then
	echo "isolation.sh: missing tools: apt-get install$missing" >&2
	exit 1
fi
if [ "${DAEMONBOX_BENCH_NS:-}" != private ]; then
	exec env DAEMONBOX_BENCH_NS=private unshare --mount --propagation private "$self" "$@"
fi
# In our own mount namespace from here: the host keeps its cgroup2 mount.
if mountpoint -q /sys/fs/cgroup/unified; then
	umount /sys/fs/cgroup/unified
fi
unset DAEMONBOX_LAUNCH # the user namespace row leaves the choice to daemonbox
cd "$(dirname "$self")/.."

# Under /run: daemonbox refuses a root with an ancestor others can write (/tmp).
out=$(mktemp -d /run/daemonbox-bench.XXXXXX)
chmod 755 "$out"
root=$out/root
started=()    # pids of background launchers we started
specs=()      # specs we ran with daemonbox start
containers=() # "runtime id" of containers we started
cleanup() {
	local s c p
	for s in "${specs[@]}"; do
		"$out/daemonbox" stop "$s" >/dev/null 2>&1 || true
		rm -f "/var/log/daemonbox-$(basename "$s" .toml).log"
	done
	for c in "${containers[@]}"; do
		# shellcheck disable=SC2086 # "runtime id"
		set -- $c
		"$1" --root "$out/$1-state" delete --force "$2" >/dev/null 2>&1 || true
	done
	for p in "${started[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	rm -rf "$out"
}
trap cleanup EXIT

CGO_ENABLED=0 go build -o "$out/daemonbox" ./cmd/daemonbox
go build -o "$out/launchtime" ./bench/launchtime
CGO_ENABLED=0 go build -o "$out/floor" ./bench/floor
examples/make-httpd-root.sh "$root" >/dev/null
for applet in true sleep sh; do
	ln -s busybox "$root/bin/$applet"
done
# The probe: what a row's command sees of itself. /proc/self/ns is compared
# with this script's own namespaces below.
cat >"$root/bin/probe" <<'EOF'
#!/bin/sh
for ns in pid mnt net ipc uts cgroup user; do
	echo "ns $ns $(busybox readlink /proc/self/ns/$ns)"
done
busybox grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status
busybox awk '$5 == "/" { o = $6 } END { split(o, f, ","); print "root", f[1] }' /proc/self/mountinfo
echo "pid $$"
echo "init $(busybox cat /proc/1/comm)"
EOF
chmod 755 "$root/bin/probe"

# spec FILE COMMAND EXTRA NAMESPACE...: a daemonbox spec with bwrap's
# confinement; EXTRA is more of [filesystem].
spec() {
	local file=$1 command=$2 extra=$3 ns
	shift 3
	{
		printf '[process]\ncommand = %s\n\n[user]\nuser = "nobody"\n\n' "$command"
		printf '[filesystem]\nroot = "%s"\nreadonly = ["/"]\ndev = true\n%s\n' "$root" "$extra"
		printf '[namespaces]\n'
		for ns; do
			printf '%s = true\n' "$ns"
		done
	} >"$file"
}
# bundle DIR ARGS: an OCI bundle with the same confinement; no seccomp
# (bwrap has none), and the runtime's own cgroup, which it always makes.
bundle() {
	mkdir -p "$1"
	cat >"$1/config.json" <<EOF
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 65534, "gid": 65534},
    "args": $2,
    "env": ["PATH=/bin"],
    "cwd": "/",
    "capabilities": {"bounding": [], "effective": [], "permitted": [], "inheritable": [], "ambient": []},
    "noNewPrivileges": true
  },
  "root": {"path": "$root", "readonly": true},
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "cgroup"}]
  }
}
EOF
}
full=(pid network ipc uts cgroup)
# The in-place probe binds the host's /proc in: without a PID namespace
# there is no /proc of its own, and the probe reads itself there.
hostproc=$'[[filesystem.bind]]\nsource = "/proc"\ntarget = "/proc"\n'
for p in true probe; do
	spec "$out/full-$p.toml" "[\"/bin/$p\"]" "" "${full[@]}"
	spec "$out/userns-$p.toml" "[\"/bin/$p\"]" "" "${full[@]}" user
	bundle "$out/bundle-$p" "[\"/bin/$p\"]"
done
spec "$out/in-place-true.toml" '["/bin/true"]' "" network ipc uts cgroup
spec "$out/in-place-probe.toml" '["/bin/probe"]' "$hostproc" network ipc uts cgroup
chmod 644 "$out"/*.toml

rows=(bwrap true floor one-image staged staged3 userns in-place crun runc)
# row_argv ROW PROGRAM: sets argv to the row's launch of /bin/PROGRAM.
row_argv() {
	local p=$2
	case $1 in
	bwrap) argv=(bwrap --unshare-all --die-with-parent --new-session --ro-bind "$root" / --proc /proc
		--dev /dev --uid 65534 --gid 65534 --cap-drop ALL "/bin/$p") ;;
	true) argv=("$root/bin/$p") ;;
	floor) argv=("$out/floor" "$root" "/bin/$p") ;;
	one-image | staged) argv=("DAEMONBOX_LAUNCH=$1" "$out/daemonbox" run "$out/full-$p.toml") ;;
	staged3) argv=(DAEMONBOX_LAUNCH=staged DAEMONBOX_PID1=stage "$out/daemonbox" run "$out/full-$p.toml") ;;
	userns | in-place) argv=("$out/daemonbox" run "$out/$1-$p.toml") ;;
	crun | runc) argv=("$1" --root "$out/$1-state" run --bundle "$out/bundle-$p" "bench-$1-$$") ;;
	esac
}
label() {
	case $1 in
	bwrap) echo "bwrap (as in issue 20)" ;;
	true) echo "/bin/true alone" ;;
	floor) echo "Go floor (bench/floor)" ;;
	one-image) echo "daemonbox, DAEMONBOX_LAUNCH=one-image" ;;
	staged) echo "daemonbox, DAEMONBOX_LAUNCH=staged" ;;
	staged3) echo "the same, DAEMONBOX_PID1=stage" ;;
	userns) echo "daemonbox, with a user namespace" ;;
	in-place) echo "daemonbox in place (no pid, user ns)" ;;
	crun | runc) echo "$1" ;;
	esac
}
# What the probe cannot see: whether the launcher put it in a cgroup.
cgroup_of() {
	case $1 in
	crun | runc) echo "cgroup yes (v1, the runtime's own, made and removed per run)" ;;
	*) echo "cgroup no" ;;
	esac
}

# confinement ROW: runs the probe under the row once and says what it saw.
confinement() {
	local argv
	row_argv "$1" probe
	if ! env "${argv[@]}" >"$out/probe.out" 2>&1; then
		echo "probe failed: $(tr '\n' ' ' <"$out/probe.out")"
		return
	fi
	for ns in pid mnt net ipc uts cgroup user; do
		echo "self $ns $(readlink "/proc/$$/ns/$ns")"
	done | awk -v cg="$(cgroup_of "$1")" '
		$1 == "self" { self[$2] = $3; next }
		$1 == "ns" { if ($3 != self[$2]) ns = ns (ns == "" ? "" : ",") $2; seen = 1 }
		$1 == "Uid:" { uid = $2 }
		$1 == "CapEff:" { eff = ($2 ~ /^0+$/) ? "none" : $2 }
		$1 == "CapBnd:" { bnd = ($2 ~ /^0+$/) ? "none" : $2 }
		$1 == "NoNewPrivs:" { nnp = $2 }
		$1 == "Seccomp:" { sec = ($2 == 0) ? "no" : "yes" }
		$1 == "root" { ro = $2 }
		$1 == "pid" { pid = $2 }
		$1 == "init" { init = $2 }
		END {
			printf "ns %s; root %s; uid %s; caps %s, bounding %s; no_new_privs %s; seccomp %s; %s; command is PID %s",
				(ns == "" ? "none" : ns), ro, uid, eff, bnd, nnp, sec, cg, pid
			if (ns ~ /pid/ && pid != 1)
				printf " under PID 1 %s", init
			printf "\n"
		}' - "$out/probe.out"
}

echo "isolation.sh: $rounds shuffled rounds of ${#rows[@]} launches of /bin/true (busybox), root $root"
flags=(-n "$rounds" -ratios)
commands=()
for r in "${rows[@]}"; do
	row_argv "$r" true
	flags+=(-label "$(label "$r")")
	commands+=(-- "${argv[@]}")
done
"$out/launchtime" "${flags[@]}" "${commands[@]}"
echo
echo "confinement, as the probe saw it (in-place: with the host's /proc bound in, to read it):"
for r in "${rows[@]}"; do
	printf '%-38s %s\n' "$(label "$r")" "$(confinement "$r")"
done

# Resident memory of each launcher's own processes while a busybox sleep
# runs under it: the launcher's process and its descendants, less the sleep.
# tree PID: PID and its descendants, one "pid comm" a line.
tree() {
	ps -e -o pid=,ppid=,comm= | awk -v top="$1" '
		{ parent[$1] = $2; comm[$1] = $3 }
		END {
			for (p in parent) {
				for (q = p; q != "" && q != top && q > 1; q = parent[q]) {}
				if (q == top) print p, comm[p]
			}
		}'
}
# sleeper PID: waits (bounded) for a sleep under PID, prints its pid.
sleeper() {
	local i pid
	for i in $(seq 100); do
		pid=$(tree "$1" | awk '$2 == "sleep" { print $1; exit }')
		if [ -n "$pid" ]; then
			echo "$pid"
			return
		fi
		sleep 0.05
	done
	echo "isolation.sh: no sleep under pid $1 after 5 s" >&2
	return 1
}
# memory LABEL PID: sums Rss and Pss over PID's tree, less the sleep.
memory() {
	local pid comm names="" rss=0 pss=0 r p
	while read -r pid comm; do
		[ "$comm" != sleep ] || continue
		r=$(awk '$1 == "Rss:" { print $2 }' "/proc/$pid/smaps_rollup")
		p=$(awk '$1 == "Pss:" { print $2 }' "/proc/$pid/smaps_rollup")
		rss=$((rss + r)) pss=$((pss + p))
		case $comm in db:*) comm="daemonbox $(ps -o args= -p "$pid" | awk '{ print $3 }')" ;; esac
		names="$names, $comm $((r / 1024)).$((r % 1024 * 10 / 1024))/$((p / 1024)).$((p % 1024 * 10 / 1024))"
	done < <(tree "$2" | sort -n)
	awk -v l="$1" -v r="$rss" -v p="$pss" -v n="${names#, }" \
		'BEGIN { printf "%-38s %6.1f MB %6.1f MB  %s\n", l, r / 1024, p / 1024, n }'</dev/null
}
sleep_argv='["/bin/sleep", "1000"]'
bundle "$out/bundle-sleep" "$sleep_argv"
echo
echo "resident memory while a busybox sleep runs under each (MB = MiB; the sleep itself left out):"
printf '%-38s %9s %9s  %s\n' launcher RSS PSS "processes measured, RSS/PSS MB each"
for mode in one-image staged; do
	name=dbbench-sleep-$$-$mode
	spec "$out/$name.toml" "$sleep_argv" "" "${full[@]}"
	chmod 644 "$out/$name.toml"
	specs+=("$out/$name.toml")
	DAEMONBOX_LAUNCH=$mode "$out/daemonbox" start "$out/$name.toml" >/dev/null
	supervisor=$(ps -e -o pid=,args= | awk -v t="daemonbox: $name supervisor" 'index($0, t) { print $1; exit }')
	if [ -z "$supervisor" ]; then
		echo "isolation.sh: no supervisor titled \"daemonbox: $name supervisor\"" >&2
		exit 1
	fi
	sleeper "$supervisor" >/dev/null
	# The supervisor drops the launch's code from its resident set once the
	# daemon has run for a second (supervisor/trim.go): measure after that.
	sleep 1.5
	memory "daemonbox start, $mode" "$supervisor"
	"$out/daemonbox" stop "$out/$name.toml" >/dev/null
done
bwrap --unshare-all --die-with-parent --new-session --ro-bind "$root" / --proc /proc --dev /dev \
	--uid 65534 --gid 65534 --cap-drop ALL /bin/sleep 1000 &
launcher=$!
started+=("$launcher")
sleep_pid=$(sleeper "$launcher")
memory "bwrap" "$launcher"
kill -KILL "$sleep_pid"
wait "$launcher" || true
for runtime in crun runc; do
	containers+=("$runtime bench-$runtime-sleep-$$")
	"$runtime" --root "$out/$runtime-state" run --bundle "$out/bundle-sleep" "bench-$runtime-sleep-$$" </dev/null &
	launcher=$!
	started+=("$launcher")
	sleeper "$launcher" >/dev/null
	memory "$runtime run (foreground)" "$launcher"
	"$runtime" --root "$out/$runtime-state" kill "bench-$runtime-sleep-$$" KILL
	wait "$launcher" || true
done
printf '%-38s %9s %9s  %s\n' "crun run -d" "0" "0" "no crun process stays: the container's PID 1 is the sleep itself"
