package sandbox

import (
	"fmt"
	"os"
	"slices"

	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// Run launches the daemon that p describes and returns daemonbox's exit code.
//
// A detached plan goes to Start. Otherwise, when nothing needs a supervisor
// (see needsSupervisor) and daemonbox can become the daemon's session leader
// itself (it is not a process-group leader, as under systemd, a script or
// another program), it applies the sequence to itself and execs in place:
// one process image, nothing left resident, and Run returns only on failure.
// Otherwise it spawns an init stage in a new session and stays as its
// supervisor in the foreground.
//
// Run must be called from an init function, as cmd/daemonbox does: Go runs
// those on the process's first thread and keeps the goroutine there, and
// every step changes the state of the thread that will call execve.
func Run(p *Plan) (int, error) {
	if p.Detach {
		return Start(p)
	}
	code, err := runHere(p)
	if err != nil {
		removeUnusedLogs(p)
	}
	return code, err
}

// runHere runs the daemon from this process: in place, or supervised.
func runHere(p *Plan) (int, error) {
	// Before anything is opened, so that an fd the caller did not pass
	// cannot be taken by one of ours and handed on as "preserved".
	if err := checkPreserved(p.Preserve); err != nil {
		return ExitFailure, err
	}
	stdio, err := openStdio(p)
	if err != nil {
		return ExitFailure, err
	}
	if InPlace() && !needsSupervisor(p) {
		err := execInPlace(p, stdio)
		return ExitCode(err), err
	}
	// The supervisor stays beside the daemon for its whole life: it keeps
	// only the fds it passes on.
	if err := closeInherited(func(fd int) bool { return slices.Contains(p.Preserve, fd) }); err != nil {
		closeAll(stdio[:])
		return ExitFailure, stepError("fds", err)
	}
	return supervise(p, stdio, nil)
}

// needsSupervisor reports whether the daemon needs a daemonbox process
// beside it for its whole life: to hold its pidfile's lock, copy its logs
// (so that they can be reopened), hear READY=1, restart it, or tell a
// service manager that waits for readiness (NOTIFY_SOCKET) that it is up.
// A PID or user namespace is entered only by a new process, which clone
// creates.
func needsSupervisor(p *Plan) bool {
	return p.Pidfile != "" || p.Restart != "no" || p.Ready == "notify" || p.PIDNS || p.UserNS ||
		p.Stdio[1].Kind == spec.StdioFile || p.Stdio[2].Kind == spec.StdioFile ||
		p.Manager != ""
}

// InPlace reports whether daemonbox can exec the daemon in place: setsid
// works only for a process that does not lead a process group.
func InPlace() bool { return unix.Getpgrp() != os.Getpid() }

// onFirstThread catches a caller that breaks Run's rule from another
// goroutine; a launch that moved between threads would also fail verify.
func onFirstThread() *StepError {
	if unix.Gettid() != unix.Getpid() {
		return &StepError{Step: "launch", Msg: "not on the process's first thread: the launch must run from an init function"}
	}
	return nil
}

func execInPlace(p *Plan, stdio [3]int) error {
	// The fds step may point fd 2 at a log file; a failure is the caller's to
	// read, so keep its stderr aside (close-on-exec) and put it back.
	saved, dupErr := unix.FcntlInt(2, unix.F_DUPFD_CLOEXEC, 3)
	l := &launch{plan: p, stdio: stdio, sock: -1, newRoot: -1}
	err := l.run()
	if dupErr == nil {
		unix.Dup3(saved, 2, 0)
	}
	return err // a *StepError, never nil
}

// checkPreserved requires each preserved fd to be open and inherited: fds
// daemonbox opens itself are all close-on-exec.
func checkPreserved(fds []int) error {
	for _, fd := range fds {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil {
			return stepError("preserve", opError("fcntl F_GETFD", fmt.Sprintf("fd %d (is it open?)", fd), err))
		}
		if flags&unix.FD_CLOEXEC != 0 {
			return &StepError{Step: "preserve", Msg: fmt.Sprintf("fd %d was not inherited by daemonbox", fd)}
		}
	}
	return nil
}
