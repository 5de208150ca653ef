// Package pollfd starts the Go runtime's network poller at start-up, with
// fds 3 to 3+Reserved-1 taken, so that the poller's epoll and eventfd fds
// lie above them for the life of the process. cmd/daemonbox imports it for
// that side effect alone.
//
// A launch in place puts the daemon's listen sockets at fds 3 onward in
// daemonbox's own process before execve. The runtime opens its poller the
// first time a timer or a pollable file needs it (the heap scavenger's
// timer among them, whenever the scheduler runs it), at the lowest free
// fd, and keeps it: on a slow machine (a VM under TCG) it came up at fd 4
// before the sockets were opened, and the launch had to refuse to put a
// socket there. Opened here, in an init function that imports only the
// standard library, it is opened before daemonbox opens anything.
package pollfd

import (
	"syscall"
	"time"
)

// Reserved is how many fds from 3 up the poller is kept off: the most
// listen sockets a launch in place can place without meeting it.
const Reserved = 32

func init() { Start() }

// Start opens the poller at fd 3+Reserved or above, unless it is open
// already. Fds in the range that are open (inherited ones) are left as they are;
// the free ones are held by duplicates of one fd meanwhile.
func Start() {
	first, err := syscall.Open("/", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return // nothing lost: the launch still refuses a socket's place that the poller holds
	}
	var room [Reserved + 1]int // on the stack: no heap page for a slice to grow into
	held := append(room[:0], first)
	for fd := first; fd < 3+Reserved; {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(first), syscall.F_DUPFD_CLOEXEC, 3)
		if e != 0 {
			break
		}
		fd = int(r)
		if fd >= 3+Reserved {
			syscall.Close(fd)
			break
		}
		held = append(held, fd)
	}
	// A timer that is not a channel's is added to the runtime's timer heap
	// at once, and the heap opens the poller first.
	time.AfterFunc(time.Hour, func() {}).Stop()
	closeAll(held)
}

// closeAll closes fds, which rise, with one close_range (Linux 5.9) for each
// run of consecutive ones: usually the whole of them, one system call in
// place of Reserved.
func closeAll(fds []int) {
	for i := 0; i < len(fds); {
		j := i + 1
		for j < len(fds) && fds[j] == fds[j-1]+1 {
			j++
		}
		if j-i == 1 {
			syscall.Close(fds[i])
		} else if _, _, e := syscall.Syscall(sysCloseRange, uintptr(fds[i]), uintptr(fds[j-1]), 0); e != 0 {
			for _, fd := range fds[i:j] {
				syscall.Close(fd)
			}
		}
		i = j
	}
}

// sysCloseRange is close_range's number in the generic system call table,
// which amd64, arm64 and riscv64 share; package syscall does not name it.
const sysCloseRange = 436
