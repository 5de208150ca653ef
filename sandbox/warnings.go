package sandbox

import (
	"os"
	"strings"
	"syscall"

	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// riskyCombinations are settings each valid alone that together undo much
// of the confinement.
func riskyCombinations(s *spec.Spec, p *Plan) []string {
	var out []string
	warn := func(path, format string, args ...any) {
		out = append(out, s.Errorf(path, format, args...).Error())
	}
	if k := p.Caps.Keep & (1<<unix.CAP_SYS_ADMIN | 1<<unix.CAP_SYS_CHROOT); p.UID == 0 && k != 0 {
		warn("capabilities.keep", "uid 0 with %s kept can leave any root directory or namespace it is given", strings.Join(k.Names(), " and "))
	}
	if who := p.rootWriter(); who != "" {
		warn("filesystem.root", "%s can write the root directory %s: it can replace its own programs and libraries; set filesystem.readonly = [\"/\"] or give the root another owner", who, p.Root)
	}
	out = append(out, filterWarnings(s, p)...)
	if t := p.bindsOf("/"); len(t) > 0 {
		warn("filesystem.bind", "the host's / is bound at %s: the root directory no longer confines the daemon", t[0])
	}
	if p.mapsHostRoot() {
		warn("namespaces.uid_map", "maps an id to the host's uid 0: the daemon, or what it becomes, owns what host root owns")
	}
	for _, name := range s.Process.InheritEnv {
		if strings.HasPrefix(name, "LD_") {
			warn("process.inherit_env", "%s is passed on from daemonbox's environment: whoever starts daemonbox chooses the code the daemon loads", name)
		}
	}
	return out
}

// rootWriter says who in the daemon can write its root directory: its uid
// as owner, uid 0, or a group or other write bit. "" when nobody or when the
// root is read-only.
func (p *Plan) rootWriter() string {
	if p.Root == "/" || p.mounted(MountReadonly, "/") {
		return ""
	}
	fi, err := os.Stat(p.Root)
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	mode := fi.Mode().Perm()
	switch {
	case p.UID == 0 && !p.UserNS:
		return "the daemon, as uid 0,"
	case st.Uid == p.UID && mode&0o200 != 0:
		return "the daemon, as the root's owner,"
	case mode&0o002 != 0:
		return "every user"
	case mode&0o020 != 0 && p.inGroup(st.Gid):
		return "the daemon, through the root's group,"
	}
	return ""
}

func (p *Plan) inGroup(gid uint32) bool {
	if p.GID == gid {
		return true
	}
	for _, g := range p.Groups {
		if g == gid {
			return true
		}
	}
	return false
}

func filterWarnings(s *spec.Spec, p *Plan) []string {
	var out []string
	warn := func(path, format string, args ...any) {
		out = append(out, s.Errorf(path, format, args...).Error())
	}
	switch {
	case !s.Seccomp.Enabled:
		warn("seccomp.enabled", "false: the daemon can make every system call, unshare(CLONE_NEWUSER), io_uring, keyctl and ptrace among them; remove it for the default filter")
	case s.Seccomp.Action == spec.SeccompLog:
		warn("seccomp.action", "\"log\" lets every call through, only logged: the filter confines nothing")
	case p.filterLets("unshare") > 0 || p.filterLets("setns") > 0:
		warn("seccomp.allow", "names a group or call that lifts the namespace rule: the daemon can make or join namespaces, a new user namespace with every capability in it")
	case p.filterLets("io_uring_setup") > 0 && p.SeccompPolicy.Families != nil:
		warn("seccomp.allow", "names io_uring, whose requests the filter does not see: the daemon can open sockets of any family through it, whatever address_families says")
	}
	if !s.Seccomp.Enabled {
		for _, k := range []string{"seccomp.address_families", "seccomp.memory_deny_write_execute", "seccomp.allow", "seccomp.deny"} {
			if s.Has(k) {
				warn(k, "has no effect with seccomp.enabled = false: the filter enforces it")
			}
		}
	}
	return out
}
