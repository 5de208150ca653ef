package spec

import (
	"strings"
	"syscall"

	"github.com/daemonbox/daemonbox/seccomp"
	"golang.org/x/sys/unix"
)

// [seccomp]: the system call filter. Names are checked against seccomp's
// table, so a misspelt group or call is caught with its line and column.

var (
	seccompKeys = []string{"enabled", "allow", "deny", "action", "errno"}
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
}

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
