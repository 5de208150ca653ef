package sandbox

import (
	"fmt"
	"os"
	"slices"

	"github.com/daemonbox/daemonbox/hostpath"
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

var streamNames = [3]string{"stdin", "stdout", "stderr"}

// openStdio opens the standard streams' files with daemonbox's privileges,
// before any step: their paths are host paths. -1 means inherit.
func openStdio(p *Plan) ([3]int, error) {
	fds := [3]int{-1, -1, -1}
	for i, s := range p.Stdio {
		var err error
		switch s.Kind {
		case spec.StdioNull:
			fds[i], err = unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
			if err != nil {
				err = opError("open", "/dev/null", err)
			}
		case spec.StdioFile:
			fds[i], err = openFile(s.Path, i == 0, pathGuard(p))
		}
		if err != nil {
			closeAll(fds[:i])
			return fds, stepError(streamNames[i], err)
		}
	}
	return fds, nil
}

// openFile opens a log (append, created 0640) or input file through
// directories the daemon cannot change (see hostpath), without following a
// symlink at the path, and refuses anything but a regular file; O_NONBLOCK
// keeps a FIFO planted at the path from hanging the open.
func openFile(path string, input bool, g *hostpath.Guard) (int, error) {
	flags := unix.O_NOCTTY | unix.O_NONBLOCK
	if input {
		flags |= unix.O_RDONLY
	} else {
		flags |= unix.O_WRONLY | unix.O_APPEND | unix.O_CREAT
	}
	fd, dir, err := hostpath.OpenFile(path, flags, 0o640, g)
	if err != nil {
		return -1, pathStepError(err)
	}
	unix.Close(dir)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, &StepError{Op: "open", Path: path, Msg: "not a regular file"}
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err == nil {
		_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_NONBLOCK)
	}
	if err != nil {
		unix.Close(fd)
		return -1, opError("fcntl F_SETFL", path, err)
	}
	return fd, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// pathGuard is whom the host paths that daemonbox opens for the daemon (its
// logs, stdin, pidfile) must be safe from: the daemon's host ids. None for a
// daemon that is uid 0 on the host, which owns what root owns, or for a
// rootless launch, which is on the host the same user as its daemon.
func pathGuard(p *Plan) *hostpath.Guard {
	c := hostCreds(p)
	if c.uid == 0 || p.Rootless {
		return nil
	}
	return &hostpath.Guard{UID: c.uid, GIDs: append([]uint32{c.gid}, c.groups...)}
}
