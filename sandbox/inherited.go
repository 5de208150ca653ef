package sandbox

import (
	"strconv"

	"golang.org/x/sys/unix"
)

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
