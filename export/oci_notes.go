package export

import (
	"fmt"
	"strings"

	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ociNotCarried says, by spec key, what of s the OCI config cannot express
// and what is lost with it. Each is an annotation of the config, so that
// nothing is dropped without a word, and export prints them on stderr
// (OCINotes).
func ociNotCarried(s *spec.Spec, p *sandbox.Plan) map[string]string {
	n := lifecycleNotes(s, p)
	confinementNotes(n, s, p)
	fileNotes(n, s, p)
	return n
}

// lifecycleNotes are those of the streams, signals and [daemon]: the
// engine's business under OCI.
func lifecycleNotes(s *spec.Spec, p *sandbox.Plan) map[string]string {
	n := map[string]string{
		"signals.ignore": "OCI has no signal dispositions: the daemon starts with every signal at its default, but for those runc's caller ignores (daemonbox ignores signals.ignore and resets the rest)",
		"signals.stop":   "the stop signal and timeout are the engine's (runc kill ID SIGNAL; docker stop --time, Kubernetes terminationGracePeriodSeconds, Nomad kill_signal and kill_timeout)",
		"daemon.restart": "restarts are the engine's (Docker --restart, Kubernetes restartPolicy, Nomad restart); runc has none",
	}
	for i, st := range p.Stdio {
		if st.Kind != spec.StdioInherit {
			n["fds."+sandbox.StreamNames[i]] = "the runtime hands the daemon its caller's streams: redirect runc's (runc run ID <in >>out), or use the engine's logging"
		}
	}
	if len(p.Preserve) > 0 {
		n["fds.preserve"] = "runc run --preserve-fds N passes its fds 3 to 3+N-1, at the same numbers"
	}
	if len(s.FDs.Listen) > 0 {
		n["fds.listen"] = "runc passes sockets and LISTEN_FDS on only when it is itself socket-activated (with --preserve-fds)"
	}
	if p.Pidfile != "" {
		n["daemon.pidfile"] = "runc run --pid-file FILE writes the daemon's pid"
	}
	if p.Ready == spec.ReadyNotify {
		n["daemon.ready"] = "runc relays sd_notify only when it runs with NOTIFY_SOCKET itself (under systemd Type=notify)"
	}
	if p.Watchdog > 0 {
		n["daemon.watchdog"] = "the watchdog is the engine's (systemd WatchdogSec= around runc, a Kubernetes liveness probe); runc has none"
	}
	if p.StartSettle > 0 {
		n["daemon.start_settle"] = "runc run returns at the exec; the engine watches what follows"
	}
	if p.ParentDeath != 0 {
		n["signals.parent_death"] = "OCI has no parent-death signal"
	}
	return n
}

// confinementNotes are those of the confinement: what OCI lacks, and what
// runc needs that the launch does not.
func confinementNotes(n map[string]string, s *spec.Spec, p *sandbox.Plan) {
	if s.Landlock.Set {
		n["landlock"] = "OCI has no Landlock rules: the daemon's file and TCP access is what its mounts, credentials and filter allow"
	}
	if p.Init {
		n["namespaces.init"] = "runc has no init process: the daemon is PID 1 of its namespace and reaps orphans itself"
	}
	if p.Unshare&unix.CLONE_NEWNS == 0 {
		n["namespaces.mount"] = "the config has a mount namespace, which an OCI runtime always makes: the daemon sees the same files, through a copy of the mount table"
	}
	if needsProc(p) {
		n["namespaces.pid"] = "runc needs a /proc in the root, which this chroot without a PID namespace lacks under daemonbox: the config gives the daemon a PID namespace of its own, where it is PID 1, and mounts that namespace's /proc (hardened). A /proc of the host's PID namespace would let the daemon reach other processes' roots (/proc/PID/root). As PID 1 the daemon ignores a signal it has no handler for (runc kill ID TERM does nothing then) and reaps orphans itself, as with namespaces.pid = true under runc"
	}
	if !hasMount(p, sandbox.MountDev) && rootDevEmpty(p.Root) {
		n["filesystem.dev"] = "runc needs /dev/null, which the root's /dev lacks: the config gives it a tmpfs /dev that runc fills with null, zero, full, random, urandom and tty"
	}
	for _, l := range p.Rlimits {
		if l.Resource == unix.RLIMIT_AS && l.Soft < 1<<30 {
			n["rlimits.as"] = "carried, but runc 1.1 applies it to its own init (a Go program) before it loads the filter, and below about 1 GiB that fails with \"cannot allocate memory\" (512 MiB did here); [resources] memory_max limits the daemon without it"
		}
	}
	if p.UserNS && (!spec.Contains(p.UIDMap, 0) || !spec.Contains(p.GIDMap, 0)) {
		n["namespaces.uid_map"] = "carried, but runc 1.1 refuses a user namespace whose uid or gid 0 is not mapped (\"no user mapping found\"): map 0 in uid_map and gid_map, to an unprivileged host range"
	}
	if len(s.Process.InheritEnv) > 0 {
		n["process.inherit_env"] = "resolved when exported: the config holds this environment's values"
	}
	if p.Filter != nil {
		n["seccomp"] = "numbers the filter's table does not know get ENOSYS under daemonbox and the default action under OCI (runc answers ENOSYS above the profile's highest number); libseccomp compares all 64 bits of an argument where daemonbox reads the low 32"
	}
	if p.Cgroup.Set {
		n["resources.parent"] = "cgroupsPath is left to the runtime (runc: /ID), so the exported daemon never shares a daemonbox-run one's cgroup"
		if l := p.Cgroup.Limits; l.MemorySwapMax != nil && l.MemoryMax == nil {
			n["resources.memory_swap_max"] = "OCI's swap limit is memory plus swap, which needs memory_max"
		}
	}
	if p.UserName != "" || p.GroupName != "" || len(p.GroupNames) > 0 {
		n["user"] = "names are resolved when exported, from this host's /etc/passwd and /etc/group: the config holds numbers"
	}
}

// fileNotes are those of what daemonbox makes or reads on the host for the
// daemon before the launch.
func fileNotes(n map[string]string, s *spec.Spec, p *sandbox.Plan) {
	if s.Process.EnvFile != "" {
		n["process.env_file"] = "read when exported: the config holds its values, which a change to the file does not reach"
	}
	if len(p.Directories) > 0 {
		n["directories"] = "OCI cannot make directories: make " + directoryList(p) + " before the runtime starts (the config binds them in where the root is read-only or a chroot, and sets STATE_DIRECTORY and its kin); nothing removes the runtime ones"
	}
}

// directoryList names each of [directories] with its owner and mode.
func directoryList(p *sandbox.Plan) string {
	var parts []string
	for _, d := range p.Directories {
		owner := "daemonbox's user"
		if d.UID >= 0 {
			owner = fmt.Sprintf("%d:%d", d.UID, d.GID)
		}
		parts = append(parts, fmt.Sprintf("%s (%s, mode %04o)", d.Path(), owner, d.Mode))
	}
	return strings.Join(parts, ", ")
}

// OCINotes are the config's notes of what it does not carry, by spec key:
// its annotations under OCINoteKey.
func OCINotes(c *specs.Spec) map[string]string {
	notes := map[string]string{}
	for k, v := range c.Annotations {
		if key, ok := strings.CutPrefix(k, OCINoteKey); ok {
			notes[key] = v
		}
	}
	return notes
}
