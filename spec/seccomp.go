package spec

import (
	"slices"
	"strings"
	"syscall"

	"github.com/daemonbox/daemonbox/seccomp"
	"golang.org/x/sys/unix"
)

// [seccomp]: the system call filter. Names are checked against seccomp's
// table, so a misspelt group or call is caught with its line and column.

var (
	seccompKeys = []string{"enabled", "allow", "deny", "action", "errno", "address_families", "memory_deny_write_execute"}
)

// SeccompAction is seccomp.action: what a denied call gets.
type SeccompAction string

// The actions.
const (
	SeccompErrno SeccompAction = "errno" // the call fails with Seccomp.Errno
	SeccompKill  SeccompAction = "kill"  // the whole process is killed
	SeccompLog   SeccompAction = "log"   // the call is allowed, and logged by the kernel
)

// Seccomp is [seccomp].
type Seccomp struct {
	Enabled bool
	Allow   []string // group names ("@system-service") and syscall names
	Deny    []string // taken out of what Allow lets through
	Action  SeccompAction
	Errno   syscall.Errno
	// Families are the socket address families the daemon may create
	// (address_families); nil means DefaultAddressFamilies.
	Families []int
	// AllFamilies is address_families = ["all"]: socket() is not checked.
	AllFamilies bool
	// DenyWriteExecute is memory_deny_write_execute (default true): no
	// memory both writable and executable, as MemoryDenyWriteExecute=.
	DenyWriteExecute bool
}

// DefaultAddressFamilies are the families a daemon may create when the spec
// names none: local sockets, IPv4 and IPv6, the list systemd-analyze
// security asks of a service. AF_NETLINK is left out: glibc's getaddrinfo
// and getifaddrs work without it (AI_ADDRCONFIG then assumes both IP
// families); a daemon that reads routes or interfaces names it.
var DefaultAddressFamilies = []int{unix.AF_UNIX, unix.AF_INET, unix.AF_INET6}

// DefaultSeccompAllow is what a spec that names no allow list gets; the
// filter also takes out io_uring, userfaultfd and @keyring unless named.
var DefaultSeccompAllow = []string{"@system-service"}

func (d *decoder) seccomp(v any) {
	m, ok := d.table("seccomp", v, seccompKeys)
	if !ok {
		return
	}
	sc := &d.s.Seccomp
	each(m, seccompKeys, func(k string, x any) {
		key := "seccomp." + k
		switch k {
		case "enabled":
			sc.Enabled, _ = d.boolean(key, x)
		case "allow":
			sc.Allow = d.syscallNames(key, x)
		case "deny":
			sc.Deny = d.syscallNames(key, x)
		case "action":
			if s, ok := d.choice(key, x, string(SeccompErrno), string(SeccompKill), string(SeccompLog)); ok {
				sc.Action = SeccompAction(s)
			}
		case "errno":
			sc.Errno, _ = d.errno(key, x)
		case "address_families":
			sc.Families, sc.AllFamilies = d.families(key, x)
		case "memory_deny_write_execute":
			sc.DenyWriteExecute, _ = d.boolean(key, x)
		}
	})
}

func (d *decoder) syscallNames(key string, v any) []string {
	names, ok := d.strings(key, v)
	if !ok {
		return nil
	}
	for i, n := range names {
		if !seccomp.Known(n) {
			d.failElem(key, i, "unknown system call or group %q%s", clip(n), didYouMean(n, seccomp.GroupNames()))
		}
	}
	return names
}

// families reads address_families: family names, or the one word "all".
func (d *decoder) families(key string, v any) ([]int, bool) {
	names, ok := d.strings(key, v)
	if !ok {
		return nil, false
	}
	if len(names) == 1 && strings.EqualFold(names[0], "all") {
		return nil, true
	}
	out := make([]int, 0, len(names))
	for i, n := range names {
		nr, ok := seccomp.Family(n)
		if !ok {
			d.failElem(key, i, "unknown address family %q (\"all\" alone lifts the check)%s", clip(n), didYouMean(n, seccomp.AllFamilies()))
			continue
		}
		if !slices.Contains(out, nr) {
			out = append(out, nr)
		}
	}
	return out, false
}

// errno reads an errno name such as "EPERM".
func (d *decoder) errno(key string, v any) (syscall.Errno, bool) {
	name, ok := d.str(key, v)
	if !ok {
		return 0, false
	}
	for e := syscall.Errno(1); e < 4096; e++ {
		if unix.ErrnoName(e) == strings.ToUpper(name) {
			return e, true
		}
	}
	d.fail(key, "unknown errno %q (e.g. \"EPERM\", \"EACCES\", \"ENOSYS\")", clip(name))
	return 0, false
}
