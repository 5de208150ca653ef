package sandbox

import (
	"github.com/daemonbox/daemonbox/caps"
	"golang.org/x/sys/unix"
)

// A kept capability can undo the confinement it is kept in. escapes refuses
// the combinations that do, where the spec's namespaces do not contain
// them, and says which setting does.

// rootEscape is a capability that leads out of a root directory: how it does,
// and the namespaces that take that way away.
type rootEscape struct {
	capability int
	how        string
	contained  func(*Plan) bool
	instead    string
}

var rootEscapes = []rootEscape{
	{unix.CAP_SYS_CHROOT, "chroot into a subdirectory and climb out with \"..\"",
		func(p *Plan) bool { return p.Unshare&unix.CLONE_NEWNS != 0 },
		"set namespaces.mount = true: pivot_root leaves no tree of the host's behind the root"},
	{unix.CAP_SYS_ADMIN, "mount the host's filesystems, or enter the host's mount namespace",
		func(p *Plan) bool { return p.UserNS }, "set namespaces.user = true, or drop it"},
	{unix.CAP_SYS_PTRACE, "trace a process outside the root and act through it",
		func(p *Plan) bool { return p.PIDNS || p.UserNS }, "set namespaces.pid = true, or drop it"},
	{unix.CAP_SETUID, "become the user of any process outside the root, then trace it and act through it",
		func(p *Plan) bool { return p.PIDNS || p.UserNS }, "set namespaces.pid = true, or drop it"},
	{unix.CAP_DAC_READ_SEARCH, "open any file of the host's filesystems by handle (open_by_handle_at)",
		func(p *Plan) bool { return p.UserNS }, "set namespaces.user = true, or drop it"},
	{unix.CAP_MKNOD, "make a device node of the host's disks inside the root",
		func(p *Plan) bool { return p.UserNS }, "set namespaces.user = true, or drop it"},
	{unix.CAP_SYS_MODULE, "load a kernel module",
		func(p *Plan) bool { return p.UserNS }, "set namespaces.user = true, or drop it"},
}

func (r *resolver) escapes(p *Plan) {
	keep := p.Caps.Keep
	if p.Init && keep.Has(unix.CAP_SYS_PTRACE) {
		r.fail("capabilities.keep", "CAP_SYS_PTRACE would let the daemon trace its namespace's PID 1 (catatonit or daemonbox's own), which holds the PID namespace's privileges; set namespaces.init = false, so that the daemon is PID 1 itself, or drop CAP_SYS_PTRACE")
	}
	if keep.Has(unix.CAP_SYS_ADMIN) && p.UserNS && p.Unshare&unix.CLONE_NEWNS != 0 {
		r.fail("capabilities.keep", "CAP_SYS_ADMIN would let the daemon remount writable what daemonbox made read-only or masked, /sys among them: its user namespace owns the mount namespace, so those mounts are not locked; drop CAP_SYS_ADMIN")
	}
	if p.Root == "/" {
		return
	}
	for _, e := range rootEscapes {
		if keep.Has(e.capability) && !e.contained(p) {
			r.fail("capabilities.keep", "%s would let the daemon leave the root %s: it can %s; %s",
				caps.Name(e.capability), p.Root, e.how, e.instead)
		}
	}
}
