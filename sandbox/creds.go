package sandbox

import (
	"fmt"
	"strconv"
	"unsafe"

	"github.com/daemonbox/daemonbox/caps"
	"golang.org/x/sys/unix"
)

// The credential steps, in the kernel's order: the bounding set while
// CAP_SETPCAP is held, keep-caps, groups, gid, uid, then the final
// capability sets from the kept permitted set.

// bounding drops only what the set still holds: each drop commits new
// credentials (docs/design.md has the cost), and under a container runtime's
// bounding set most of the kernel's capabilities are gone already.
func (l *launch) bounding() error {
	return caps.DropBounding(l.start.Caps.Bounding, l.plan.Caps.Keep)
}

func (l *launch) keepCaps() error { return caps.KeepAcrossSetuid() }

// groups, gid and uid change the credentials of this thread only, the one
// that will call execve: the daemon inherits that thread's credentials, as it
// does its capabilities and no_new_privs. Go's syscall.Setresuid would stop
// the world to change every runtime thread too, which the daemon never sees
// (execve ends them) and which costs more than the rest of the launch; runc
// does the same for the same reason.
func (l *launch) groups() error {
	if l.plan.Rootless {
		return nil // setgroups is denied there; plan validation required no groups
	}
	gids := make([]uint32, len(l.plan.Groups))
	copy(gids, l.plan.Groups)
	var list uintptr
	if len(gids) > 0 {
		list = uintptr(unsafe.Pointer(&gids[0]))
	}
	if _, _, errno := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(gids)), list, 0); errno != 0 {
		return OpError("setgroups", fmt.Sprint(l.plan.Groups), errno)
	}
	return nil
}

func (l *launch) gid() error {
	g := uintptr(l.plan.GID)
	if _, _, errno := unix.RawSyscall(unix.SYS_SETRESGID, g, g, g); errno != 0 {
		return OpError("setresgid", strconv.Itoa(int(g)), errno)
	}
	return nil
}

func (l *launch) uid() error {
	u := uintptr(l.plan.UID)
	if _, _, errno := unix.RawSyscall(unix.SYS_SETRESUID, u, u, u); errno != 0 {
		return OpError("setresuid", strconv.Itoa(int(u)), errno)
	}
	return nil
}

func (l *launch) capabilities() error { return caps.Apply(l.plan.Caps) }
