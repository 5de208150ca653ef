package export

import (
	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// OCINotCarried says, by spec key, what of s the OCI config cannot express
// and what is lost with it. Each is an annotation of the config, so that
// nothing is dropped without a word, and export prints them on stderr.
func OCINotCarried(s *spec.Spec, p *sandbox.Plan) map[string]string {
	n := map[string]string{
		"signals.ignore": "OCI has no signal dispositions: the daemon starts with every signal at its default, but for those runc's caller ignores (daemonbox ignores signals.ignore and resets the rest)",
		"signals.stop":   "the stop signal and timeout are the engine's (runc kill ID SIGNAL; docker stop --time, Kubernetes terminationGracePeriodSeconds, Nomad kill_signal and kill_timeout)",
		"daemon.restart": "restarts are the engine's (Docker --restart, Kubernetes restartPolicy, Nomad restart); runc has none",
	}
	if s.Landlock.Set {
		n["landlock"] = "OCI has no Landlock rules: the daemon's file and TCP access is what its mounts, credentials and filter allow"
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
	if p.ParentDeath != 0 {
		n["signals.parent_death"] = "OCI has no parent-death signal"
	}
	if p.Init {
		n["namespaces.init"] = "runc has no init process: the daemon is PID 1 of its namespace and reaps orphans itself"
	}
	if p.Unshare&unix.CLONE_NEWNS == 0 {
		n["namespaces.mount"] = "the config has a mount namespace, which an OCI runtime always makes: the daemon sees the same files, through a copy of the mount table"
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
	if len(s.Process.InheritEnv) > 0 || p.UserName != "" || len(p.GroupNames) > 0 {
		n["user"] = "names and inherited variables are resolved when exported, on this host: the config holds numbers and values"
	}
	return n
}
