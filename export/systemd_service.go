package export

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// serviceGen writes the service unit, one concern of the spec per method.
type serviceGen struct {
	s       *spec.Spec
	p       *sandbox.Plan
	version int
	sockets []string // the socket units that pass it [[fds.listen]]
	u       unitText
}

func (g *serviceGen) unit() (string, error) {
	g.header()
	g.u.section("Service")
	for _, part := range []func(){g.process, g.identity, g.capabilities, g.rlimits, g.namespaces,
		g.mounts, g.seccomp, g.resources, g.streams, g.lifecycle, g.landlock} {
		part()
	}
	g.u.section("Install")
	g.u.set("WantedBy", "multi-user.target")
	return g.u.b.String(), g.u.err
}

func (g *serviceGen) header() {
	u := &g.u
	u.note("Exported by `daemonbox export --format systemd` from %s (spec version %d), for systemd %d and later.", g.s.File, g.s.Version, g.version)
	u.note("Each comment says what a key of the spec becomes here, or why systemd cannot express it.")
	u.section("Unit")
	u.set("Description", strings.ReplaceAll(g.p.Name+", confined as its daemonbox spec declares", "%", "%%"))
	if len(g.sockets) > 0 {
		all := strings.Join(g.sockets, " ")
		u.set("Requires", all)
		u.set("After", all)
	}
}

func (g *serviceGen) process() {
	u, p := &g.u, g.p
	words := make([]string, len(p.Argv))
	for i, a := range p.Argv {
		words[i] = systemdArg(a)
	}
	u.set("ExecStart", strings.Join(words, " "))
	keys := make([]string, 0, len(g.s.Process.Env))
	for k := range g.s.Process.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if g.s.Process.Env == nil {
		u.set("Environment", systemdEnv("PATH="+spec.DefaultPath))
	}
	for _, k := range keys {
		u.set("Environment", systemdEnv(k+"="+g.s.Process.Env[k]))
	}
	if len(g.s.Process.InheritEnv) > 0 {
		u.note("process.inherit_env: taken from the service manager's environment, as daemonbox takes it from its own.")
		u.set("PassEnvironment", quoteAll(g.s.Process.InheritEnv, systemdEnv))
	}
	if f := g.s.Process.EnvFile; f != "" {
		u.set("EnvironmentFile", systemdEnv(f))
		u.note("process.env_file: systemd reads it at every start, daemonbox when it reads the spec (a restart keeps its values); and here its values override PassEnvironment='s, where daemonbox's inherit_env overrides the file.")
	}
	u.note("systemd adds variables daemonbox does not set (INVOCATION_ID, JOURNAL_STREAM, and HOME, USER, LOGNAME, SHELL with User=).")
	u.line("WorkingDirectory", p.Cwd)
	u.set("UMask", fmt.Sprintf("%04o", p.Umask))
	u.set("NoNewPrivileges", yes(p.NoNewPrivs))
	if p.OOMScoreAdj != nil {
		u.set("OOMScoreAdjust", strconv.Itoa(*p.OOMScoreAdj))
	} else {
		u.note("process.oom_score_adj unset: the daemon inherits the service manager's, as it would daemonbox's.")
	}
}

func quoteAll(words []string, quote func(string) string) string {
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = quote(w)
	}
	return strings.Join(out, " ")
}

func (g *serviceGen) identity() {
	u, p, su := &g.u, g.p, g.s.User
	switch {
	case su.User != nil && p.UserName != "":
		u.set("User", p.UserName)
	case su.User != nil:
		u.set("User", strconv.FormatUint(uint64(p.UID), 10))
	case p.UID == 0:
		u.note("user.user unset: daemonbox runs the daemon as its own uid (0 here); systemd's default is root too.")
	default:
		u.note("user.user unset: daemonbox ran as uid %d, which is written out here.", p.UID)
		u.set("User", strconv.FormatUint(uint64(p.UID), 10))
	}
	if su.Group != nil {
		u.set("Group", nameOr(p.GroupName, p.GID))
	}
	names := make([]string, len(p.Groups))
	for i, gid := range p.Groups {
		names[i] = strconv.FormatUint(uint64(gid), 10)
		if i < len(p.GroupNames) && p.GroupNames[i] != "" {
			names[i] = p.GroupNames[i]
		}
	}
	u.set("SupplementaryGroups", strings.Join(names, " "))
	if su.User != nil || p.UID != 0 {
		u.note("user.groups: systemd also gives the user the groups the group database lists for it (initgroups); daemonbox gives exactly these.")
	}
}

func nameOr(name string, id uint32) string {
	if name != "" {
		return name
	}
	return strconv.FormatUint(uint64(id), 10)
}

func (g *serviceGen) capabilities() {
	u, c := &g.u, g.p.Caps
	kept := strings.Join(c.Keep.Names(), " ")
	u.set("CapabilityBoundingSet", kept)
	if c.Ambient && c.Keep != 0 {
		u.set("AmbientCapabilities", kept)
	} else {
		u.set("AmbientCapabilities", "")
	}
}

// rlimitNames are systemd's directives by RLIMIT_ number; each takes the
// kernel's unit as a bare number (seconds for CPU, microseconds for RTTIME).
var rlimitNames = map[int]string{
	unix.RLIMIT_CPU: "LimitCPU", unix.RLIMIT_FSIZE: "LimitFSIZE", unix.RLIMIT_DATA: "LimitDATA",
	unix.RLIMIT_STACK: "LimitSTACK", unix.RLIMIT_CORE: "LimitCORE", unix.RLIMIT_RSS: "LimitRSS",
	unix.RLIMIT_NPROC: "LimitNPROC", unix.RLIMIT_NOFILE: "LimitNOFILE", unix.RLIMIT_MEMLOCK: "LimitMEMLOCK",
	unix.RLIMIT_AS: "LimitAS", unix.RLIMIT_LOCKS: "LimitLOCKS", unix.RLIMIT_SIGPENDING: "LimitSIGPENDING",
	unix.RLIMIT_MSGQUEUE: "LimitMSGQUEUE", unix.RLIMIT_NICE: "LimitNICE", unix.RLIMIT_RTPRIO: "LimitRTPRIO",
	unix.RLIMIT_RTTIME: "LimitRTTIME",
}

func (g *serviceGen) rlimits() {
	for _, l := range g.p.Rlimits {
		name, ok := rlimitNames[l.Resource]
		if !ok {
			g.u.fail(fmt.Errorf("export systemd: rlimits.%s: no systemd directive for resource %d", l.Name, l.Resource))
			continue
		}
		g.u.set(name, limitValue(l.Soft)+":"+limitValue(l.Hard))
	}
	g.u.note("rlimits not in the spec are inherited from the service manager, as daemonbox's are from daemonbox.")
}

func limitValue(n uint64) string {
	if n == unix.RLIM_INFINITY {
		return "infinity"
	}
	return strconv.FormatUint(n, 10)
}

// duration writes d as systemd reads a time span, exactly.
func duration(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	if d%time.Millisecond == 0 {
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	}
	return strconv.FormatInt(d.Microseconds(), 10) + "us"
}
