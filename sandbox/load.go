package sandbox

import (
	"strings"

	"github.com/daemonbox/daemonbox/caps"

	"github.com/daemonbox/daemonbox/rlimit"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// Load reads the spec at path and resolves it against the running host.
func Load(path string) (*spec.Spec, *Plan, error) {
	s, err := spec.Load(path)
	if err != nil {
		return nil, nil, err
	}
	h, err := LiveHost()
	if err != nil {
		return s, nil, err
	}
	p, err := NewPlan(s, h)
	return s, p, err
}

// risky are capabilities that amount to root, or nearly.
var risky = caps.Of(unix.CAP_SYS_ADMIN, unix.CAP_SYS_PTRACE, unix.CAP_SYS_MODULE, unix.CAP_SYS_RAWIO,
	unix.CAP_DAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH, unix.CAP_SETUID, unix.CAP_SETGID, unix.CAP_NET_ADMIN)

// Warnings lists settings that are valid but weaken the confinement.
func Warnings(s *spec.Spec, p *Plan) []string {
	var out []string
	warn := func(path, format string, args ...any) {
		out = append(out, s.Errorf(path, format, args...).Error())
	}
	if p.UID == 0 {
		warn("user", "the daemon runs as uid 0; set user.user to an unprivileged account")
	}
	if !p.NoNewPrivs {
		warn("process.no_new_privileges", "false lets the daemon gain privileges through setuid or file-capability programs")
	}
	if r := p.Rlimits; !coreZero(r) {
		warn("rlimits.core", "core dumps are allowed; they can write the daemon's secrets to disk")
	}
	if k := p.Caps.Keep & risky; k != 0 {
		warn("capabilities", "keeps %s, which give near-root power", strings.Join(k.Names(), ", "))
	}
	out = append(out, riskyCombinations(s, p)...)
	if p.Root != "/" && !p.PIDNS && !p.UserNS {
		warn("filesystem.root", "without namespaces.pid, the daemon can trace and signal the host's processes that run as uid %d and gid %d, and act outside the root through them; set namespaces.pid = true, or give it ids of its own", p.UID, p.GID)
	}
	if interp := landlockInterpreter(p); interp != "" {
		warn("landlock.execute", "does not cover %s, the interpreter of %s, so its exec would fail with EACCES", interp, p.Argv[0])
	}
	return out
}

func coreZero(limits []rlimit.Limit) bool {
	for _, l := range limits {
		if l.Resource == unix.RLIMIT_CORE {
			return l.Hard == 0
		}
	}
	return false
}

// LoadControl reads the spec at path for stop, status, reload and
// reopen-logs, which need where the pidfile is, which signals to send, and
// what the pidfile's directories must be safe from (see pathGuard): the
// daemon's ids, capabilities, root and binds. Nothing needs privilege, so an
// unprivileged user can ask for a daemon's status.
func LoadControl(path string) (*Plan, error) {
	s, err := spec.Load(path)
	if err != nil {
		return nil, err
	}
	h, err := LiveHost()
	if err != nil {
		return nil, err
	}
	p := &Plan{
		Launch: Launch{Root: s.Filesystem.Root},
		Lifecycle: Lifecycle{
			Name: planName(s), Pidfile: s.Daemon.Pidfile, PidfileDir: defaultPidfileDir(h.Euid, h.LookupEnv),
			Stop: s.Signals.Stop, StopTimeout: s.Signals.StopTimeout, Reload: s.Signals.Reload,
		},
	}
	r := &resolver{s: s, h: h}
	r.credentials(p)
	if len(r.errs) > 0 {
		return nil, r.errs
	}
	// What these refuse is start's to say.
	r.userNamespace(p)
	r.capabilities(p)
	r.namespaces(p)
	r.cgroup(p) // stop ends and removes it, status lists what is in it
	return p, nil
}
