package sandbox

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Waiting for children by pidfd or waitid, with the status as daemonbox
// reports it: the exit code, or 128+n for signal n.

// WaitPidfd waits for the child behind pidfd to exit and returns its
// status as daemonbox reports it: the exit code, or 128+n for signal n.
// With reap false the child stays a zombie (WNOWAIT), so its pid cannot be
// reused while the supervisor removes the pidfile that names it.
func WaitPidfd(pidfd int, reap bool) (int, error) {
	opts := unix.WEXITED
	if !reap {
		opts |= unix.WNOWAIT
	}
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PIDFD, pidfd, &info, opts, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		return childStatus(&info), nil
	}
}

// WaitAny returns, without waiting, a child that has exited and its status
// (see WaitPidfd), reaping it if reap is set: pid 0 if none has exited,
// and ECHILD if there is no child at all.
func WaitAny(reap bool) (pid, status int, err error) {
	opts := unix.WEXITED | unix.WNOHANG
	if !reap {
		opts |= unix.WNOWAIT
	}
	var info unix.Siginfo
	for {
		if err = unix.Waitid(unix.P_ALL, 0, &info, opts, nil); err != unix.EINTR {
			break
		}
	}
	if pid = siginfoPID(&info); err != nil || pid == 0 {
		return 0, 0, err
	}
	return pid, childStatus(&info), nil
}

// childStatus reads si_code and si_status of a SIGCHLD siginfo (at bytes 8
// and 24 on Linux's 64-bit ABIs).
func childStatus(info *unix.Siginfo) int {
	b := (*[128]byte)(unsafe.Pointer(info))
	code := *(*int32)(unsafe.Pointer(&b[8]))
	status := int(*(*int32)(unsafe.Pointer(&b[24])))
	if code == cldExited {
		return status
	}
	return ExitSignalShift + status
}

// siginfoPID reads si_pid (at byte 16); 0 when waitid found no child.
func siginfoPID(info *unix.Siginfo) int {
	b := (*[128]byte)(unsafe.Pointer(info))
	return int(*(*int32)(unsafe.Pointer(&b[16])))
}

const cldExited = 1 // CLD_EXITED; CLD_KILLED and CLD_DUMPED carry a signal
