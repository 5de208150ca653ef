package supervisor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/daemonbox/daemonbox/pidfile"
	"github.com/daemonbox/daemonbox/proctitle"
	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// SuperviseArg is argv[1] of a detached supervisor: daemonbox re-executed by
// `daemonbox start`, with its socket's fd number as argv[2].
const SuperviseArg = "__daemonbox_supervise"

// IsSupervisor reports whether args are those of a detached supervisor.
// Its fourth is room for its title (proctitle.Room).
func IsSupervisor(args []string) bool {
	return (len(args) == 3 || len(args) == 4) && args[1] == SuperviseArg
}

// Start detaches the daemon: a supervisor in a session of its own claims the
// pidfile, launches the daemon and reports back. Start returns once the
// daemon is ready (exec'd, or READY=1 sent), or with the reason it failed,
// after the supervisor has cleaned up and exited.
func Start(p *sandbox.Plan) (int, error) {
	if len(p.StartErrs) > 0 {
		return sandbox.ExitFailure, p.StartErrs
	}
	if err := sandbox.CheckPreserved(p.Preserve); err != nil {
		return sandbox.ExitFailure, err
	}
	// Here, where systemd's sockets are, and with the caller's privileges;
	// the supervisor receives them at fds 3 onward.
	listen, err := sandbox.OpenListen(&p.Launch)
	if err != nil {
		return sandbox.ExitFailure, err
	}
	defer sandbox.CloseAll(listen)
	if p.Pidfile == "" {
		if err := os.MkdirAll(p.PidfileDir, 0o755); err != nil {
			return sandbox.ExitFailure, sandbox.AtStep("pidfile", err)
		}
	}
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return sandbox.ExitFailure, sandbox.AtStep("start", sandbox.OpError("socketpair", "", err))
	}
	defer unix.Close(pair[0])
	pid, err := startSupervisor(listen, p.Preserve, pair[1])
	unix.Close(pair[1])
	if err != nil {
		return sandbox.ExitFailure, &sandbox.StepError{Step: "start", Op: "start", Path: "/proc/self/exe", Msg: err.Error()}
	}
	conn := sandbox.NewConn(pair[0])
	if err := conn.SendPlan(detached(p)); err != nil {
		return sandbox.ExitFailure, &sandbox.StepError{Step: "start", Op: "send plan", Msg: err.Error()}
	}
	_, err = conn.AwaitStarted()
	if err == nil {
		notifyManager(p.Manager, "READY=1\nMAINPID="+strconv.Itoa(pid))
		return 0, nil
	}
	err = startFailed(pid, err)
	return sandbox.ExitCode(err), err
}

// detached is the plan a detached supervisor runs: its pidfile named, and
// no stream inherited from a caller that is about to go away.
func detached(p *sandbox.Plan) *sandbox.Plan {
	q := *p
	q.Pidfile = p.PidfilePath()
	for i, st := range q.Stdio {
		if st.Kind == spec.StdioInherit {
			q.Stdio[i] = spec.Stdio{Kind: spec.StdioNull}
		}
	}
	return &q
}

// startSupervisor starts daemonbox again as the detached supervisor: stdio on
// /dev/null, the listen sockets at 3 onward, preserved fds at their own
// numbers, the socket after them, a
// session of its own, an empty environment (supervisorEnv), and "/" as its cwd, so that it
// keeps no filesystem of its caller's busy.
func startSupervisor(listen, preserve []int, sock int) (int, error) {
	null, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(null)
	files, next := sandbox.ChildFiles([3]int{null, null, null}, listen, preserve, sock)
	return syscall.ForkExec("/proc/self/exe", []string{"daemonbox", SuperviseArg, strconv.Itoa(next), proctitle.Room}, &syscall.ProcAttr{
		Dir: "/", Env: supervisorEnv(), Files: files, Sys: &syscall.SysProcAttr{Setsid: true},
	})
}

// supervisorEnv is the detached supervisor's environment: empty, but for
// the forced launch path (sandbox.LaunchEnv), which applies to every
// start of the daemon.
func supervisorEnv() []string {
	if v, ok := os.LookupEnv(sandbox.LaunchEnv); ok {
		return []string{sandbox.LaunchEnv + "=" + v}
	}
	return []string{}
}

// startFailed reaps a supervisor that reported a failure (or died) and
// returns the reason. The supervisor exits right after reporting, having
// removed what it made; the wait is bounded all the same.
func startFailed(pid int, err error) error {
	status, werr := waitBounded(pid, 10*time.Second)
	var se *sandbox.StepError
	switch {
	case errors.As(err, &se):
		return se
	case errors.Is(err, sandbox.ErrClosed):
		return &sandbox.StepError{Step: "start", Msg: "the supervisor exited before the daemon started (" + sandbox.DescribeStatus(status, werr) + ")"}
	}
	return &sandbox.StepError{Step: "start", Op: "read", Msg: err.Error()}
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
	return sandbox.WaitPidfd(pidfd, true)
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
	sock, err := strconv.Atoi(args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "daemonbox: the supervisor is started by daemonbox start, not by hand")
		return sandbox.ExitFailure
	}
	closed := sandbox.CloseInherited(func(fd int) bool { return fd <= sock })
	unix.CloseOnExec(sock)
	conn := sandbox.NewConn(sock)
	plan, err := conn.AwaitPlan()
	if err != nil {
		return sandbox.ExitFailure
	}
	if closed != nil {
		conn.SendError(sandbox.AtStep("fds", closed))
		return sandbox.ExitFailure
	}
	// Started as /proc/self/exe, it would show in ps as "exe"; and one
	// supervisor should be told from another.
	proctitle.Set("daemonbox: "+plan.Name+" supervisor", proctitle.Comm(plan.Name))
	started := func(pid int, err error) {
		if err != nil {
			conn.SendError(asStepError(err))
		} else {
			conn.SendStarted(pid)
		}
		unix.Close(sock)
	}
	listen := sandbox.InheritedListen(&plan.Launch)
	stdio, err := sandbox.OpenStdio(plan)
	if err != nil {
		sandbox.RemoveUnusedLogs(plan)
		started(0, err)
		return sandbox.ExitFailure
	}
	code, err := supervise(plan, stdio, listen, started)
	if err != nil {
		sandbox.RemoveUnusedLogs(plan)
	}
	return code
}

func asStepError(err error) *sandbox.StepError {
	if se, ok := err.(*sandbox.StepError); ok {
		return se
	}
	return &sandbox.StepError{Msg: err.Error()}
}

// AlreadyRunning reports, for start, a daemon whose supervisor holds its
// pidfile, and says so on w: LSB has start succeed on a running service.
func AlreadyRunning(w io.Writer, p *sandbox.Plan) bool {
	st, err := pidfile.Read(p.PidfilePath(), p.PathGuard())
	if err != nil || !st.Running {
		return false
	}
	if st.PID == 0 {
		fmt.Fprintf(w, "%s: already running (starting or restarting); nothing done\n", p.Name)
	} else {
		fmt.Fprintf(w, "%s: already running (pid %d); nothing done\n", p.Name, st.PID)
	}
	return true
}
