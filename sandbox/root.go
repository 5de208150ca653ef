package sandbox

import (
	"strings"

	"golang.org/x/sys/unix"
)

// The root and cwd steps: pivot_root into a prepared root, or chroot; the
// working directory entered as the daemon's user and checked inside it.

func (l *launch) root() error {
	if l.newRoot >= 0 {
		return l.pivot()
	}
	root := l.plan.Root
	if root == "/" {
		return nil
	}
	if err := unix.Chdir(root); err != nil {
		return OpError("chdir", root, err)
	}
	if err := unix.Chroot("."); err != nil {
		return OpError("chroot", root, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return OpError("chdir", "/ inside "+root, err)
	}
	return nil
}

func (l *launch) cwd() error {
	if err := unix.Chdir(l.plan.Cwd); err != nil {
		return OpError("chdir", l.plan.Cwd, err)
	}
	wd, err := getcwd()
	if err != nil {
		return OpError("getcwd", l.plan.Cwd, err)
	}
	// Outside the root, the kernel's getcwd starts with "(unreachable)".
	if !strings.HasPrefix(wd, "/") {
		return &StepError{Op: "getcwd", Path: l.plan.Cwd, Msg: "outside the root: " + wd}
	}
	return nil
}

// getcwd asks the kernel for the working directory with a 256-byte buffer in
// its frame: unix.Getwd's 4 KiB array alone took the launch past the 4 KiB
// stack the runtime gives the init goroutine, and growing the stack there
// copies every frame. A longer path takes longCwd, which lies in the
// package's data, not in the frame (a second array of constant size here
// would sit in the frame, used or not). Unlike unix.Getwd, it returns the
// kernel's answer as it is, "(unreachable)" prefix included, for the caller
// to judge.
func getcwd() (string, error) {
	var buf [256]byte
	b := buf[:]
	n, err := unix.Getcwd(b)
	if err == unix.ERANGE {
		b = longCwd[:]
		n, err = unix.Getcwd(b)
	}
	if err != nil {
		return "", err
	}
	if n < 1 || n > len(b) || b[n-1] != 0 { // n counts the NUL
		return "", unix.EINVAL
	}
	return string(b[:n-1]), nil
}

// longCwd is getcwd's buffer for paths over 256 bytes. Only the launch's cwd
// step calls getcwd, once, on the one goroutine that runs the sequence.
var longCwd [unix.PathMax]byte

// pivot makes the prepared root the root of the mount namespace and
// detaches the old one: unlike a chroot, nothing of the host's tree stays
// reachable. pivot_root(".", ".") stacks the old root over the new one,
// where it is unmounted.
func (l *launch) pivot() error {
	if err := unix.Fchdir(l.newRoot); err != nil {
		return OpError("fchdir", l.plan.Root, err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return OpError("pivot_root", l.plan.Root, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return OpError("umount", "the old root", err)
	}
	unix.Close(l.newRoot)
	l.newRoot = -1
	if err := unix.Chdir("/"); err != nil {
		return OpError("chdir", "/", err)
	}
	return nil
}
