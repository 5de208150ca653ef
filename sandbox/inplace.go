package sandbox

import (
	"fmt"
	"os"
	"slices"

	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// NeedsSupervisor reports whether the daemon needs a daemonbox process
// beside it for its whole life: to hold its pidfile's lock, copy its logs
// (so that they can be reopened), hear READY=1 or WATCHDOG=1, restart it, or tell a
// service manager that waits for readiness (NOTIFY_SOCKET) that it is up.
// A PID or user namespace is entered only by a new process, which clone
// creates.
func (p *Plan) NeedsSupervisor() bool {
	return p.Pidfile != "" || p.Restart != spec.RestartNo || p.Ready == spec.ReadyNotify || p.Watchdog > 0 || p.PIDNS || p.UserNS ||
		p.Stdio[1].Kind == spec.StdioFile || p.Stdio[2].Kind == spec.StdioFile ||
		p.Manager != "" || p.hasRuntimeDirectories()
}

// hasRuntimeDirectories: someone must be left to remove them.
func (p *Plan) hasRuntimeDirectories() bool {
	return slices.ContainsFunc(p.Directories, func(d Directory) bool { return d.Kind == "runtime" })
}

// InPlace reports whether daemonbox can exec the daemon in place: setsid
// works only for a process that does not lead a process group.
func InPlace() bool { return unix.Getpgrp() != os.Getpid() }

// onFirstThread catches a caller that breaks ExecInPlace's rule from
// another goroutine; a launch that moved between threads would also fail
// verify.
func onFirstThread() *StepError {
	if unix.Gettid() != unix.Getpid() {
		return &StepError{Step: "launch", Msg: "not on the process's first thread: the launch must run from an init function"}
	}
	return nil
}

// ExecInPlace applies the launch to this process and execs the daemon: one
// process image, nothing left resident. It returns only on failure, a
// *StepError. Like InitMain, it must be called from an init function: Go
// runs those on the process's first thread and keeps the goroutine there,
// and every step changes the state of the thread that will call execve.
func ExecInPlace(l *Launch, stdio [3]int, listen []int) error {
	if err := placeListen(listen, &stdio); err != nil {
		return AtStep("listen", err)
	}
	// The fds step may point fd 2 at a log file; a failure is the caller's to
	// read, so keep its stderr aside (close-on-exec) and put it back.
	saved, dupErr := unix.FcntlInt(2, unix.F_DUPFD_CLOEXEC, 3+len(listen))
	st := &launch{plan: l, stdio: stdio, sock: -1, newRoot: -1}
	err := st.run()
	if dupErr == nil {
		unix.Dup3(saved, 2, 0)
	}
	return err // never nil
}

// CheckPreserved requires each preserved fd to be open and inherited: fds
// daemonbox opens itself are all close-on-exec.
func CheckPreserved(fds []int) error {
	for _, fd := range fds {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil {
			return AtStep("preserve", OpError("fcntl F_GETFD", fmt.Sprintf("fd %d (is it open?)", fd), err))
		}
		if flags&unix.FD_CLOEXEC != 0 {
			return &StepError{Step: "preserve", Msg: fmt.Sprintf("fd %d was not inherited by daemonbox", fd)}
		}
	}
	return nil
}
