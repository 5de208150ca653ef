package sandbox

import (
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/daemonbox/daemonbox/seccomp"
	"golang.org/x/sys/unix"
)

// The staged path's two-image shape (issue 20): with a PID namespace and
// init = true, the init stage, PID 1, runs the whole launch sequence on a
// goroutine locked to an OS thread of its own, never unlocked, and forks
// the daemon from that thread; it then stays PID 1 with the daemon as its
// child. The daemon's own stage, a third daemonbox image, is left for the
// plans PID1ForkBlocker refuses.
//
// The thread is new, not the first one: Go starts threads for a locked
// goroutine from its template thread, which the stage made before any step
// ran, so the thread starts in the stage's namespaces and credentials, and
// every step then changes it alone (CLONE_FS keeps root, cwd and umask to
// it). The first thread keeps the stage's credentials: PID 1's /proc files
// and ptrace checks are its, and the daemon, whose capabilities are not a
// superset of them, cannot reach PID 1 (P08), as with three images.
//
// What is per process lands on PID 1 itself, inside the sandbox: rlimits
// (only those harmless to a Go PID 1, pid1RlimitOK), the ignored signals
// (for the fork only; PID 1 catches them again after), oom_score_adj (as
// before: set before pid1 on the three-image shape too) and the fds (all
// close-on-exec; the fork lays out the daemon's).

// PID1ForkEnv set to "stage" keeps the daemon's own stage (three images)
// even for a plan PID 1 could fork; tests use it to compare the shapes.
const PID1ForkEnv = "DAEMONBOX_PID1"

// pid1Fork is PID 1's state while it launches the daemon.
type pid1Fork struct {
	sigs    chan os.Signal // what PID 1 catches, from the pid1 step on
	caught  chan struct{}  // closed once sigs is set up
	ignored []os.Signal    // the spec's ignored signals, ignored by PID 1 for the fork
	daemon  int            // the daemon's pid, once forked
}

// PID1ForkBlocker says why PID 1 cannot fork the daemon of l, or "".
func PID1ForkBlocker(l *Launch, filter *seccomp.Policy) string {
	switch {
	case !l.PIDNS || !l.Init:
		return "no PID 1 of daemonbox's: the daemon is not a child of PID 1"
	case os.Getenv(PID1ForkEnv) == "stage":
		return PID1ForkEnv + "=stage asks for the daemon's own stage"
	case len(l.Listen) > 0:
		// A Go PID 1's runtime threads take the namespace's first pids
		// (2, 3, ...), and it may start another at any time, so the pid
		// of its fork cannot be known before exec, where it must be.
		return "LISTEN_PID names the daemon's pid, which a fork of PID 1's Go runtime cannot know before exec"
	}
	for _, r := range l.Rlimits {
		if !pid1RlimitOK(r.Resource, r.Soft) {
			return "rlimit " + r.String() + " would bind PID 1, a Go program, which holds it while the daemon runs"
		}
	}
	for _, sig := range l.Ignore {
		if !pid1CanIgnore(sig) {
			return "ignoring signal " + strconv.Itoa(sig) + " would change how PID 1's Go runtime works while it forks the daemon"
		}
	}
	if filter != nil {
		if c := filter.FirstRefused(threadCalls...); c != "" {
			return "the seccomp filter refuses " + c + ", which PID 1's launch thread or its fork makes after loading it"
		}
	}
	return ""
}

// pid1RlimitOK: a limit PID 1 may hold while it lives beside the daemon.
// An address-space, data, stack, RSS or CPU limit could kill or starve the
// Go runtime, and a process limit could stop it making threads; NOFILE is
// fine above the handful of fds PID 1 keeps.
func pid1RlimitOK(res int, soft uint64) bool {
	switch res {
	case unix.RLIMIT_CORE, unix.RLIMIT_FSIZE, unix.RLIMIT_MEMLOCK, unix.RLIMIT_LOCKS,
		unix.RLIMIT_MSGQUEUE, unix.RLIMIT_NICE, unix.RLIMIT_RTPRIO:
		return true
	case unix.RLIMIT_NOFILE:
		return soft >= 64
	}
	return false
}

// pid1CanIgnore: a signal that os/signal can ignore and catch again, which
// the Go runtime does not need for itself: not the faults it turns into
// panics, nor SIGCHLD (ignored, the daemon's status would be lost), SIGURG
// (preemption), SIGPROF, or the two real-time signals the runtime uses.
func pid1CanIgnore(sig int) bool {
	switch syscall.Signal(sig) {
	case unix.SIGKILL, unix.SIGSTOP, unix.SIGSEGV, unix.SIGBUS, unix.SIGFPE, unix.SIGILL, unix.SIGTRAP,
		unix.SIGABRT, unix.SIGSYS, unix.SIGCHLD, unix.SIGURG, unix.SIGPROF, 32, 33:
		return false
	}
	return sig >= 1 && sig <= maxSig
}

// pid1ForkSteps are the steps that differ in this shape from `sequence`;
// nil leaves a step out. Every other step is the sequence's own, in its
// order, on the launch thread.
var pid1ForkSteps = map[string]func(*launch) error{
	"namespaces":   (*launch).unshareThread, // with CLONE_FS: root, cwd and umask are this thread's alone
	"pid1":         (*launch).catchAsPID1,
	"fds":          (*launch).fdsCloseOnExec, // the fork lays out the daemon's fds (ChildFiles)
	"parent-death": nil,                      // the daemon's parent is PID 1, whose death ends the namespace with SIGKILL; PID 1 keeps its own from the clone
	"signals":      (*launch).signalsForFork, // through os/signal, which PID 1 uses
	"ready":        nil,                      // sent by PID 1's first thread once the fork has exec'd (announce)
	"exec":         (*launch).forkFromPID1,   //
}

// forkingPID1 is an init stage's life in the two-image shape, on its first
// thread: the launch on a thread of its own, "ready" with the daemon's pid,
// then PID 1's. It returns the stage's exit status.
func (l *launch) forkingPID1() int {
	setTitle(l.plan.Title, "pid1")
	l.fork = &pid1Fork{sigs: make(chan os.Signal, 16), caught: make(chan struct{})}
	// signal.Notify hands each signal to the runtime's signal thread and
	// waits for it, about 1 ms for all of them from a locked thread: here
	// it overlaps the steps before pid1, which waits for it.
	go func() {
		signal.Notify(l.fork.sigs, initCaught()...)
		close(l.fork.caught)
	}()
	var err *StepError
	onOwnThread(func() { err = l.runForking() })
	if err == nil {
		err = l.afterFork()
	}
	if err != nil {
		sendError(l.sock, err) // PID 1's exit ends the namespace, and a daemon forked in it
		return ExitFailure
	}
	// PID 1 keeps nothing the daemon could take with pidfd_getfd: the
	// rest are the daemon's now (the status file went before "ready").
	CloseInherited(func(int) bool { return false })
	return reapAsInit(l.fork.daemon, l.fork.sigs)
}

// runForking runs the sequence with pid1ForkSteps in place.
func (l *launch) runForking() *StepError {
	for _, s := range sequence {
		run, changed := pid1ForkSteps[s.name]
		if !changed {
			run = s.run
		}
		if run == nil {
			continue
		}
		if err := run(l); err != nil {
			return AtStep(s.name, err)
		}
	}
	return nil
}

// afterFork, on the first thread, whose calls no filter checks: PID 1
// tells the supervisor, then catches the signals it ignored for the fork
// again (one sent meanwhile was not forwarded, as one sent during the fork
// was not: only the launch is in that window).
func (l *launch) afterFork() *StepError {
	// Before "ready": it is the host's /proc, and once the start returns,
	// nothing of the host's may be open in PID 1.
	unix.Close(l.status)
	l.status = -1
	if err := l.announce(); err != nil {
		return AtStep("ready", err)
	}
	unix.Close(l.sock)
	if len(l.fork.ignored) > 0 {
		signal.Notify(l.fork.sigs, l.fork.ignored...)
	}
	// The listen sockets and preserved fds are the daemon's now: the fds
	// step made them close-on-exec here, so CloseInherited would keep them.
	for _, fd := range append(listenFDs(len(l.plan.Listen)), l.plan.Preserve...) {
		unix.Close(fd)
	}
	return nil
}

// announce sends "ready" with the daemon's pid as its kernel-checked
// sender: PID 1 holds CAP_SYS_ADMIN over its PID namespace, so the kernel
// lets it name another process of the namespace (scm_check_creds), and the
// supervisor reads the pid, translated into its own namespace, as it reads
// the daemon stage's. Sent after the fork returned, which means the exec
// succeeded.
func (l *launch) announce() error {
	cred := unix.UnixCredentials(&unix.Ucred{Pid: int32(l.fork.daemon), Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())})
	if err := unix.Sendmsg(l.sock, encode(message{kind: kindReady}), cred, nil, 0); err != nil {
		return OpError("sendmsg", "ready SCM_CREDENTIALS pid "+strconv.Itoa(l.fork.daemon), err)
	}
	return nil
}

// catchAsPID1 is the pid1 step: PID 1 catches signals before the fork, so
// that no SIGCHLD of the daemon's is missed (forkingPID1 began it).
func (l *launch) catchAsPID1() error {
	<-l.fork.caught
	return nil
}

// signalsForFork is the signals step for a fork: the spec's signals are
// ignored through os/signal, since Go's fork child resets every signal the
// runtime handles to SIG_DFL and leaves the ignored ones; any other that is
// ignored and not PID 1's is set to SIG_DFL; the thread's mask is emptied.
// verify then reads back exactly the spec's set, process-wide.
func (l *launch) signalsForFork() error {
	want := signalMask(l.plan.Ignore)
	for _, sig := range l.plan.Ignore {
		l.fork.ignored = append(l.fork.ignored, syscall.Signal(sig))
	}
	signal.Ignore(l.fork.ignored...)
	st, err := readStatus(l.status, &l.statusBuf)
	if err != nil {
		return err
	}
	for sig := 1; sig <= maxSig; sig++ {
		if (st.SigIgn&^want)&(1<<(sig-1)) != 0 {
			if err := setDisposition(sig, false); err != nil {
				return OpError("rt_sigaction", strconv.Itoa(sig), err)
			}
		}
	}
	if err := unix.PthreadSigmask(unix.SIG_SETMASK, &unix.Sigset_t{}, nil); err != nil {
		return OpError("rt_sigprocmask", "", err)
	}
	return nil
}

// forkFromPID1 is the exec step: the daemon forked from this thread, with
// its credentials, capabilities, filters, root, cwd and umask, and the fds
// its stage would have had. No Pdeathsig, which would fire when this thread
// ends.
func (l *launch) forkFromPID1() error {
	pid, err := l.forkExecDaemon(listenFDs(len(l.plan.Listen)), &syscall.SysProcAttr{})
	l.fork.daemon = pid
	return err
}
