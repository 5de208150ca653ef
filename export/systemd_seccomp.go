package export

import (
	"sort"
	"strings"

	"github.com/daemonbox/daemonbox/seccomp"
	"golang.org/x/sys/unix"
)

// seccomp writes [seccomp]. daemonbox's groups are systemd's own (generated
// from systemd-analyze syscall-filter), so the allow and deny lists carry
// over by name; daemonbox's baseline refusals, which a bare @system-service
// lets through, are spelled out as a deny line.
func (g *serviceGen) seccomp() {
	u, pol := &g.u, g.p.SeccompPolicy
	if pol == nil || g.p.Filter == nil {
		u.note("seccomp.enabled = false: no system call filter.")
		return
	}
	if pol.Action == seccomp.ActionLog {
		g.seccompLog()
		return
	}
	u.set("SystemCallFilter", strings.Join(pol.Allow, " "))
	if len(pol.Deny) > 0 {
		u.set("SystemCallFilter", "~"+strings.Join(pol.Deny, " "))
	}
	if refused := baselineRefusals(pol); len(refused) > 0 {
		u.note("daemonbox's baseline: refused although the allow list reaches them, unless named in it.")
		u.set("SystemCallFilter", "~"+strings.Join(refused, " "))
	}
	if pol.Lets("clone3") == 0 {
		u.note("clone3 gets ENOSYS, so that libc falls back to clone, whose CLONE_NEW* flags a filter can see.")
		u.set("SystemCallFilter", "~clone3:ENOSYS")
	}
	if pol.Action == seccomp.ActionKill {
		u.note("seccomp.action = kill: systemd's own default, the process is killed with SIGSYS.")
	} else {
		u.set("SystemCallErrorNumber", unix.ErrnoName(errnoOf(pol)))
	}
	g.seccompRules(pol)
}

// seccompRules writes the rules daemonbox's filter makes on arguments,
// which systemd has directives of its own for.
func (g *serviceGen) seccompRules(pol *seccomp.Policy) {
	u := &g.u
	u.set("SystemCallArchitectures", "native")
	u.set("RestrictNamespaces", yes(pol.Lets("unshare") == 0 && pol.Lets("setns") == 0))
	u.set("LockPersonality", yes(pol.Lets("personality") < 1))
	u.set("MemoryDenyWriteExecute", yes(pol.DenyWriteExecute))
	if pol.Families != nil {
		families := seccomp.FamilyNames(pol.Families)
		if families == "" {
			families = "none"
		}
		u.set("RestrictAddressFamilies", families)
	} else {
		u.note("seccomp.address_families = [\"all\"]: socket() may create any family.")
	}
	if pol.NoMPTCP {
		u.note("socket(IPPROTO_MPTCP) gets EPROTONOSUPPORT under daemonbox, since Landlock's TCP rules do not see it; systemd cannot filter on the protocol.")
	}
	u.note("System call groups are systemd 252's, as daemonbox's table; a newer systemd's groups may reach more calls.")
}

// seccompLog writes action = "log": every call is allowed, and those the
// filter would refuse are logged, which SystemCallLog= says the same way.
func (g *serviceGen) seccompLog() {
	u, pol := &g.u, g.p.SeccompPolicy
	u.note("seccomp.action = log: every call is allowed; the ones the filter would refuse are logged.")
	u.set("SystemCallLog", "~"+strings.Join(pol.Allow, " "))
	logged := append(append([]string(nil), pol.Deny...), baselineRefusals(pol)...)
	if len(logged) > 0 {
		u.set("SystemCallLog", strings.Join(logged, " "))
	}
	u.set("SystemCallArchitectures", "native")
}

// baselineRefusals are the calls the allow list reaches, the deny list does
// not take out, and the filter still refuses whatever their arguments:
// daemonbox's baseline. clone3 is left to its own line (ENOSYS).
func baselineRefusals(pol *seccomp.Policy) []string {
	denied := map[string]bool{}
	for _, n := range seccomp.Expand(pol.Deny...) {
		denied[n] = true
	}
	probe := *pol
	probe.Action = seccomp.ActionErrno // Lets reads the verdicts, the same for every action
	var out []string
	for _, n := range seccomp.Expand(pol.Allow...) {
		if !denied[n] && n != "clone3" && seccomp.Known(n) && probe.Lets(n) == 0 {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func errnoOf(pol *seccomp.Policy) unix.Errno {
	if pol.Errno == 0 {
		return unix.EPERM
	}
	return pol.Errno
}
