package supervisor

import (
	"bytes"
	"github.com/daemonbox/daemonbox/sandbox"
	"os"
	"slices"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The supervisor is a child subreaper (PR_SET_CHILD_SUBREAPER): a process
// the daemon forks and leaves behind becomes the supervisor's child instead
// of init's. That is what lets a forking daemon hand over to the process it
// names with MAINPID=, lets the supervisor reap the daemon's orphans, and
// lets it end whatever the daemon left running when the daemon ends, as
// systemd does for a service's control group.

func becomeSubreaper() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return sandbox.OpError("prctl", "PR_SET_CHILD_SUBREAPER", err)
	}
	return nil
}

// reapOrphans reaps the supervisor's exited children, except the tracked
// ones, whose status the supervisor reads through their pidfds. waitid
// with WNOWAIT shows one zombie at a time, so the sweep stops at a tracked
// one; the rest are reaped after it.
func reapOrphans(tracked ...int) {
	for {
		pid, _, err := sandbox.WaitAny(false)
		if err != nil || pid == 0 || slices.Contains(tracked, pid) {
			return
		}
		unix.Wait4(pid, nil, unix.WNOHANG, nil)
	}
}

// hasChildren asks the kernel whether the supervisor has any child at all,
// live or not: ECHILD means none, and spares the walk through /proc.
func hasChildren() bool {
	_, _, err := sandbox.WaitAny(false)
	return err != unix.ECHILD
}

// children lists the supervisor's live children by their parent in
// /proc/PID/stat; kernels without CONFIG_PROC_CHILDREN have no shorter way.
func children() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && parentOf(pid) == self {
			pids = append(pids, pid)
		}
	}
	return pids
}

// parentOf reads the fourth field of /proc/PID/stat, after the command
// name, which may itself hold spaces and parentheses; 0 if pid is gone.
func parentOf(pid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	i := bytes.LastIndexByte(b, ')')
	if err != nil || i < 0 {
		return 0
	}
	fields := bytes.Fields(b[i+1:])
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(string(fields[1]))
	return ppid
}

// descends reports whether pid is the supervisor's descendant: only the
// daemon's own processes may be named by MAINPID=.
func descends(pid int) bool {
	self := os.Getpid()
	for i := 0; i < 1024 && pid > 1; i++ {
		pid = parentOf(pid)
		if pid == self {
			return true
		}
	}
	return false
}

// endLeftovers ends the processes the daemon left behind once it ended:
// sig first, SIGKILL for those still there after timeout, each reaped. A
// leftover that forks meanwhile leaves its own children to the supervisor,
// so it goes round until none remain. It returns how many there were.
func endLeftovers(sig syscall.Signal, timeout time.Duration) int {
	ended := 0
	for round := 0; round < 64 && hasChildren(); round++ {
		fds := openAll(children())
		if len(fds) == 0 {
			return ended
		}
		ended += len(fds)
		signalAll(fds, sig)
		if !waitAll(fds, timeout) {
			signalAll(fds, unix.SIGKILL)
			waitAll(fds, stopGrace)
		}
		for _, fd := range fds {
			var info unix.Siginfo // WNOHANG: one stuck in the kernel must not hang the supervisor
			unix.Waitid(unix.P_PIDFD, fd, &info, unix.WEXITED|unix.WNOHANG, nil)
			unix.Close(fd)
		}
		sig = unix.SIGKILL // the second round is for what escaped the first
	}
	return ended
}

// awaitExit blocks until the process behind pidfd has exited; unlike
// waitid, it works for a process that is not the supervisor's child.
func awaitExit(pidfd int) {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		if _, err := unix.Poll(fds, -1); err != unix.EINTR {
			return
		}
	}
}

func openAll(pids []int) []int {
	var fds []int
	for _, pid := range pids {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			fds = append(fds, fd)
		}
	}
	return fds
}

func signalAll(fds []int, sig syscall.Signal) {
	for _, fd := range fds {
		unix.PidfdSendSignal(fd, sig, nil, 0)
	}
}

// waitAll waits until every pidfd is readable (its process exited), at
// most d in all.
func waitAll(fds []int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for _, fd := range fds {
		if !waitReadable(fd, time.Until(deadline)) {
			return false
		}
	}
	return true
}
