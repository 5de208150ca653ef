package sandbox

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// SuperviseArg is argv[1] of a detached supervisor: daemonbox re-executed by
// `daemonbox start`, with its socket's fd number as argv[2].
const SuperviseArg = "__daemonbox_supervise"

// IsSupervisor reports whether args are those of a detached supervisor.
func IsSupervisor(args []string) bool { return len(args) == 3 && args[1] == SuperviseArg }

// pidfileDir is where root's daemons have their pidfiles when the spec
// names none; other users' have theirs in $XDG_RUNTIME_DIR/daemonbox, as
// systemd's user services have their runtime files.
const pidfileDir = "/run/daemonbox"

func defaultPidfileDir(euid uint32, lookupEnv func(string) (string, bool)) string {
	if euid == 0 {
		return pidfileDir
	}
	if dir, ok := lookupEnv("XDG_RUNTIME_DIR"); ok && filepath.IsAbs(dir) {
		return filepath.Join(dir, "daemonbox")
	}
	return pidfileDir
}

// PidfilePath is where the daemon's pidfile is: daemon.pidfile, or
// NAME.pid in PidfileDir, NAME being the spec's name or its file's.
// Start and the control commands use it; a foreground run has a pidfile
// only if the spec names one.
func (p *Plan) PidfilePath() string {
	if p.Pidfile != "" {
		return p.Pidfile
	}
	return filepath.Join(p.PidfileDir, p.Name+".pid")
}

// Start detaches the daemon: a supervisor in a session of its own claims the
// pidfile, launches the daemon and reports back. Start returns once the
// daemon is ready (exec'd, or READY=1 sent), or with the reason it failed,
// after the supervisor has cleaned up and exited.
func Start(p *Plan) (int, error) {
	if err := checkPreserved(p.Preserve); err != nil {
		return ExitFailure, err
	}
	q := detached(p)
	if p.Pidfile == "" {
		if err := os.MkdirAll(p.PidfileDir, 0o755); err != nil {
			return ExitFailure, stepError("pidfile", err)
		}
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return ExitFailure, stepError("start", opError("socketpair", "", err))
	}
	defer unix.Close(pair[0])
	pid, err := startSupervisor(q, pair[1])
	unix.Close(pair[1])
	if err != nil {
		return ExitFailure, &StepError{Step: "start", Op: "start", Path: "/proc/self/exe", Msg: err.Error()}
	}
	if err := send(pair[0], message{Kind: "plan", Plan: q}); err != nil {
		return ExitFailure, &StepError{Step: "start", Op: "send plan", Msg: err.Error()}
	}
	m, err := recv(pair[0])
	if err == nil && m != nil && m.Kind == "started" {
		notifyManager(p.Manager, "READY=1\nMAINPID="+strconv.Itoa(pid))
		return 0, nil
	}
	err = startFailed(pid, m, err)
	return ExitCode(err), err
}

// detached is the plan a detached supervisor runs: its pidfile named, and
// no stream inherited from a caller that is about to go away.
func detached(p *Plan) *Plan {
	q := *p
	q.Detach = false
	q.Pidfile = p.PidfilePath()
	for i, st := range q.Stdio {
		if st.Kind == spec.StdioInherit {
			q.Stdio[i] = spec.Stdio{Kind: spec.StdioNull}
		}
	}
	return &q
}

// startSupervisor starts daemonbox again as the detached supervisor: stdio on
// /dev/null, preserved fds at their own numbers, the socket after them, a
// session of its own, an empty environment, and "/" as its cwd, so that it
// keeps no filesystem of its caller's busy.
func startSupervisor(p *Plan, sock int) (int, error) {
	null, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(null)
	files, next := childFiles([3]int{null, null, null}, p.Preserve, sock)
	return syscall.ForkExec("/proc/self/exe", []string{"daemonbox", SuperviseArg, strconv.Itoa(next)}, &syscall.ProcAttr{
		Dir: "/", Env: []string{}, Files: files, Sys: &syscall.SysProcAttr{Setsid: true},
	})
}

// startFailed reaps a supervisor that reported a failure (or died) and
// returns the reason. The supervisor exits right after reporting, having
// removed what it made; the wait is bounded all the same.
func startFailed(pid int, m *message, err error) error {
	status, werr := waitBounded(pid, 10*time.Second)
	switch {
	case err != nil:
		return &StepError{Step: "start", Op: "read", Msg: err.Error()}
	case m == nil:
		return &StepError{Step: "start", Msg: "the supervisor exited before the daemon started (" + describeStatus(status, werr) + ")"}
	case m.Kind == "error" && m.Error != nil:
		return m.Error
	}
	return &StepError{Step: "start", Msg: expect(m, "started", "error").Error()}
}

// waitBounded reaps child pid, killing it if it has not exited within d.
func waitBounded(pid int, d time.Duration) (int, error) {
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(pidfd)
	if !waitReadable(pidfd, d) {
		unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
	}
	return waitPidfd(pidfd, true)
}

// waitReadable waits up to d for fd to become readable: for a pidfd, for the
// process to exit.
func waitReadable(fd int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left < 0 {
			left = 0
		}
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(left.Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		return err == nil && n > 0
	}
}

// SuperviseMain is the detached supervisor: it receives the plan, opens the
// daemon's files, supervises the daemon for its whole life, and tells the
// starter when it is ready or why it is not. Like Run, it must be called from
// an init function.
func SuperviseMain(args []string) int {
	closed := closeInherited(upTo(lastFD(args)))
	sock, plan := receivePlan(args, "the supervisor is started by daemonbox start")
	if plan == nil {
		return ExitFailure
	}
	if closed != nil {
		send(sock, message{Kind: "error", Error: stepError("fds", closed)})
		return ExitFailure
	}
	// Started as /proc/self/exe, it would show in ps as "exe".
	unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&[]byte("daemonbox\x00")[0])), 0, 0, 0)
	started := func(pid int, err error) {
		if err != nil {
			send(sock, message{Kind: "error", Error: asStepError(err)})
		} else {
			send(sock, message{Kind: "started", PID: pid})
		}
		unix.Close(sock)
	}
	stdio, err := openStdio(plan)
	if err != nil {
		removeUnusedLogs(plan)
		started(0, err)
		return ExitFailure
	}
	code, err := supervise(plan, stdio, started)
	if err != nil {
		removeUnusedLogs(plan)
	}
	return code
}

func asStepError(err error) *StepError {
	if se, ok := err.(*StepError); ok {
		return se
	}
	return &StepError{Msg: err.Error()}
}
