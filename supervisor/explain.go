package supervisor

import (
	"fmt"
	"github.com/daemonbox/daemonbox/sandbox"
	"io"
	"slices"
	"strings"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/rlimit"
	"github.com/daemonbox/daemonbox/seccomp"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// Explain prints the confinement p gives, after defaults and name resolution.
func Explain(w io.Writer, p *sandbox.Plan) error {
	var b strings.Builder
	line := func(k, format string, args ...any) { fmt.Fprintf(&b, "%-17s %s\n", k, fmt.Sprintf(format, args...)) }
	if p.Name != "" {
		line("name", "%s", p.Name)
	}
	line("command", "%q", p.Argv)
	line("environment", "%s", orNone(strings.Join(envShown(p), " ")))
	line("root", "%s", describeRoot(p))
	line("namespaces", "%s", describeNamespaces(p))
	if p.PIDNS {
		line("pid 1", "%s", p.PID1)
	}
	if p.UserNS {
		line("uid_map", "%s (inside outside count)", describeMap(p.UIDMap))
		line("gid_map", "%s", describeMap(p.GIDMap))
		line("setgroups", "%s", map[bool]string{true: "deny", false: "allow"}[p.Rootless])
	}
	for _, m := range p.Mounts {
		line("mount", "%s", describeMount(m))
	}
	line("cwd", "%s", p.Cwd)
	line("umask", "%04o", p.Umask)
	line("uid", "%d%s", p.UID, named(p.UserName))
	line("gid", "%d%s", p.GID, named(p.GroupName))
	line("groups", "%s", describeGroups(p))
	line("no_new_privs", "%v", p.NoNewPrivs)
	explainCaps(line, p.Caps.Sets())
	explainSeccomp(line, p)
	if p.OOMScoreAdj != nil {
		line("oom_score_adj", "%d", *p.OOMScoreAdj)
	}
	for i, st := range p.Stdio {
		line(sandbox.StreamNames[i], "%s", describeStdio(st))
	}
	for i, l := range p.Listen {
		line("listen", "fd %d %q %s, opened by daemonbox before the namespaces and privileges change", 3+i, l.Name, l.Address)
	}
	line("preserved fds", "%s", orNone(strings.Trim(fmt.Sprint(p.Preserve), "[]")))
	line("other fds", "closed at exec")
	line("signals ignored", "%s", orNone(signalNames(p.Ignore)))
	line("signal mask", "empty")
	line("session", "new, no controlling terminal")
	line("stop", "%s, then SIGKILL after %s", spec.SignalName(p.Stop), p.StopTimeout)
	line("parent_death", "%s (when supervised)", describeSignal(p.ParentDeath))
	explainLandlock(line, p)
	explainCgroup(line, p)
	if err := explainRlimits(&b, p); err != nil {
		return err
	}
	explainExposure(&b, p.Exposures())
	_, err := io.WriteString(w, b.String())
	return err
}

// explainExposure prints the hardening table and, below it, the score. Each
// row's exposure is its share of the score, as systemd-analyze security
// shows it.
func explainExposure(b *strings.Builder, rows []sandbox.Exposure) {
	total := 0
	for _, r := range rows {
		total += r.Weight
	}
	fmt.Fprintf(b, "\n%-39s %-34s %6s %8s  %s\n", "hardening", "state", "weight", "exposure", "why it matters")
	for _, r := range rows {
		mark := "ok"
		if r.Badness > 0 {
			mark = "--"
		}
		share := 10 * r.Badness * float64(r.Weight) / float64(total)
		fmt.Fprintf(b, "%s %-36s %-34s %6d %8.2f  %s\n", mark, r.Item, clipState(r.State), r.Weight, share, r.Why)
	}
	score := sandbox.ExposureScore(rows)
	fmt.Fprintf(b, "\nexposure %.1f %s (0.0 nothing exposed .. 10.0 everything; systemd-analyze security's scale)\n", score, sandbox.ExposureLabel(score))
}

func clipState(s string) string {
	if len(s) > 34 {
		return s[:31] + "..."
	}
	return s
}

// explainCaps shows the five capability sets the daemon gets.
func explainCaps(line func(k, format string, args ...any), sets caps.Sets) {
	for _, s := range []struct {
		name string
		set  caps.Set
	}{{"bounding", sets.Bounding}, {"permitted", sets.Permitted}, {"effective", sets.Effective},
		{"inheritable", sets.Inheritable}, {"ambient", sets.Ambient}} {
		line("caps."+s.name, "%s", orNone(strings.Join(s.set.Names(), " ")))
	}
}

// explainSeccomp shows [seccomp] as given, and the baseline rules in force.
func explainSeccomp(line func(k, format string, args ...any), p *sandbox.Plan) {
	pol := p.SeccompPolicy
	if pol == nil {
		line("seccomp", "off: every system call is allowed")
		return
	}
	line("seccomp", "on: a filter of %d instructions, the last step before exec", len(p.Filter)/8)
	line("seccomp.allow", "%s", strings.Join(pol.Allow, " "))
	line("seccomp.deny", "%s", orNone(strings.Join(pol.Deny, " ")))
	action := string(pol.Action)
	if pol.Action == seccomp.ActionErrno {
		action += " " + unix.ErrnoName(pol.Errno)
	}
	line("seccomp.action", "%s", action)
	for _, r := range pol.Rules() {
		line("seccomp.baseline", "%s", r)
	}
}

func explainRlimits(b *strings.Builder, p *sandbox.Plan) error {
	row := func(cells ...string) {
		fmt.Fprintf(b, "%-17s %-12s %-12s %s\n", cells[0], cells[1], cells[2], cells[3])
	}
	row("rlimit", "soft", "hard", "from")
	set := map[int]rlimit.Limit{}
	for _, l := range p.Rlimits {
		set[l.Resource] = l
	}
	for res := 0; res < spec.NumRlimits; res++ {
		name := spec.RlimitName(res)
		if l, ok := set[res]; ok {
			row(name, spec.FormatLimit(res, l.Soft), spec.FormatLimit(res, l.Hard), "set")
			continue
		}
		soft, hard, err := rlimit.Get(res)
		if err != nil {
			return err
		}
		softText := spec.FormatLimit(res, soft)
		if res == 7 {
			// Go raises its own soft nofile limit at start-up and restores the
			// caller's at exec, so daemonbox cannot see the value the daemon gets.
			softText = "(caller's)"
		}
		row(name, softText, spec.FormatLimit(res, hard), "inherited")
	}
	return nil
}

func describeRoot(p *sandbox.Plan) string {
	switch {
	case p.Unshare&unix.CLONE_NEWNS != 0:
		return p.Root + " (pivot_root into a private copy)"
	case p.Root == "/":
		return "/ (no chroot)"
	}
	return p.Root + " (chroot)"
}

func describeGroups(p *sandbox.Plan) string {
	if p.Rootless {
		return "daemonbox's own stay (an unprivileged user namespace denies setgroups)"
	}
	if len(p.Groups) == 0 {
		return "none"
	}
	parts := make([]string, len(p.Groups))
	for i, g := range p.Groups {
		parts[i] = fmt.Sprint(g)
		if i < len(p.GroupNames) && p.GroupNames[i] != "" {
			parts[i] += named(p.GroupNames[i])
		}
	}
	return strings.Join(parts, " ")
}

func describeStdio(st spec.Stdio) string {
	switch st.Kind {
	case spec.StdioNull:
		return "/dev/null"
	case spec.StdioFile:
		return st.Path
	}
	return "inherited from daemonbox"
}

func describeSignal(n int) string {
	if n == 0 {
		return "none"
	}
	return spec.SignalName(n)
}

func signalNames(sigs []int) string {
	names := make([]string, len(sigs))
	for i, s := range sigs {
		names[i] = spec.SignalName(s)
	}
	return strings.Join(names, " ")
}

func named(name string) string {
	if name == "" {
		return ""
	}
	return " (" + name + ")"
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func describeNamespaces(p *sandbox.Plan) string {
	flags := p.Unshare
	if p.PIDNS {
		flags |= unix.CLONE_NEWPID
	}
	if p.UserNS {
		flags |= unix.CLONE_NEWUSER
	}
	names := sandbox.NamespaceNames(flags)
	switch {
	case names == "":
		return "the host's"
	case p.Init && p.InitProgram != "" && p.StagedWhy == "":
		names += " (" + p.InitArgv[0] + " is PID 1)"
	case p.Init:
		names += " (daemonbox is PID 1)"
	case p.PIDNS:
		names += " (the daemon is PID 1)"
	}
	if p.Hostname != "" {
		names += ", hostname " + p.Hostname
	}
	return names
}

func describeMount(m sandbox.Mount) string {
	switch {
	case m.Kind == sandbox.MountBind && m.Readonly:
		return fmt.Sprintf("bind %s on %s (read-only after)", m.Source, m.Target)
	case m.Kind == sandbox.MountBind:
		return fmt.Sprintf("bind %s on %s", m.Source, m.Target)
	case m.Optional:
		return fmt.Sprintf("%s %s (if present)", m.Kind, m.Target)
	}
	return string(m.Kind) + " " + m.Target
}

// describeMap renders a map as the kernel's file shows it.
func describeMap(maps []spec.IDMap) string {
	var lines []string
	for _, m := range maps {
		lines = append(lines, fmt.Sprintf("%d %d %d", m.Inside, m.Outside, m.Count))
	}
	return strings.Join(lines, ", ")
}

// envShown is the environment with the values env_file gave replaced by
// where they come from: explain's output ends up in terminals and CI logs.
func envShown(p *sandbox.Plan) []string {
	out := make([]string, len(p.Env))
	for i, e := range p.Env {
		name, _, _ := strings.Cut(e, "=")
		if slices.Contains(p.EnvFileNames, name) {
			e = name + "=(from " + p.EnvFile + ")"
		}
		out[i] = e
	}
	return out
}
