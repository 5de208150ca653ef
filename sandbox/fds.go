package sandbox

import (
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// The fds step: the standard streams in place, the listen sockets (already
// at 3 onward) and the preserved fds kept, every other fd close-on-exec
// (runc CVE-2024-21626). CloseInherited is the same
// hygiene for the daemonbox processes that live beside the daemon.

// fds puts the standard streams in place and marks every other fd but the
// preserved ones close-on-exec. close_range costs the same whatever
// RLIMIT_NOFILE is; daemonbox's own fds (the supervisor socket) close at exec.
func (l *launch) fds() error {
	for target, src := range l.stdio {
		if src >= 0 && src != target {
			if err := unix.Dup3(src, target, 0); err != nil {
				return OpError("dup3", fmt.Sprintf("fd %d to %d", src, target), err)
			}
		}
	}
	next := uint(3)
	// The listen sockets are at 3 onward, below every preserved fd (the
	// spec refuses an overlap).
	for _, fd := range append(listenFDs(len(l.plan.Listen)), l.plan.Preserve...) {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			return OpError("fcntl F_SETFD", "fd "+strconv.Itoa(fd), err)
		}
		if err := closeOnExec(next, uint(fd)-1); err != nil {
			return err
		}
		next = uint(fd) + 1
	}
	return closeOnExec(next, ^uint(0))
}

func closeOnExec(first, last uint) error {
	if first > last {
		return nil
	}
	if err := unix.CloseRange(first, last, unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return OpError("close_range", fmt.Sprintf("%d-%d", first, last), err)
	}
	return nil
}

// CloseInherited closes every fd from 3 up that this process inherited and
// keep does not want. A process long-lived beside the daemon (a supervisor,
// PID 1 of a PID namespace) would otherwise hold whatever its caller left
// open: a pipe that never reaches EOF, or a directory of the host's that a
// daemon allowed to ptrace it could take with pidfd_getfd. An inherited fd
// is one without close-on-exec: everything daemonbox and the Go runtime open
// has it, so their own fds stay untouched.
func CloseInherited(keep func(fd int) bool) error {
	fds, err := openFDs()
	if err != nil {
		return OpError("open", "/proc/self/fd", err)
	}
	for _, fd := range fds {
		if fd < 3 || keep(fd) {
			continue
		}
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err == nil && flags&unix.FD_CLOEXEC == 0 {
			unix.Close(fd)
		}
	}
	return nil
}

// openFDs lists this process's open fds from /proc/self/fd; the fd that
// reads the directory is not among them.
func openFDs() ([]int, error) {
	dir, err := unix.Open("/proc/self/fd", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(dir)
	var fds []int
	buf := make([]byte, 4096)
	for {
		n, err := unix.ReadDirent(dir, buf)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return fds, nil
		}
		_, _, names := unix.ParseDirent(buf[:n], -1, nil)
		for _, name := range names {
			if fd, err := strconv.Atoi(name); err == nil && fd != dir {
				fds = append(fds, fd)
			}
		}
	}
}

// upTo keeps the fds at or below last: a re-executed stage's layout (see
// childFiles), whose gaps the fork closed already.
func upTo(last int) func(int) bool { return func(fd int) bool { return fd <= last } }
