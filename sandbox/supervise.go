package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// InitArg is argv[1] of the init stage: daemonbox re-executed to run the
// launch sequence in a child, with its socket's fd number as argv[2].
const InitArg = "__daemonbox_init"

// IsInit reports whether args are those of an init stage.
func IsInit(args []string) bool { return len(args) == 3 && args[1] == InitArg }

// InitMain is the init stage: it receives the plan, runs the sequence and
// execs the daemon. It returns only on failure, after telling the supervisor.
// Like Run, it must be called from an init function.
func InitMain(args []string) int {
	sock, err := strconv.Atoi(args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "daemonbox: the init stage is started by daemonbox run, not by hand")
		return ExitFailure
	}
	unix.CloseOnExec(sock)
	m, err := recv(sock)
	if err != nil || m == nil || m.Kind != "plan" || m.Plan == nil {
		return ExitFailure
	}
	l := &launch{
		plan: m.Plan, stdio: [3]int{-1, -1, -1},
		supervised: true, parent: os.Getppid(),
		ready: func() error { return send(sock, message{Kind: "ready"}) },
	}
	send(sock, message{Kind: "error", Error: l.run()})
	return ExitFailure
}

// forwarded are the signals a supervisor passes on to the daemon.
var forwarded = []os.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2}

// supervise starts the init stage, waits for the daemon's exec, then stays as
// its parent until it exits.
func supervise(p *Plan, stdio [3]int) (int, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return ExitFailure, stepError("init", opError("socketpair", "", err))
	}
	defer unix.Close(pair[0])
	// Before the start, so that no signal is lost while the daemon launches.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	proc, files, err := startInit(p, stdio, pair[1])
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		return ExitFailure, &StepError{Step: "init", Op: "start", Path: "/proc/self/exe", Msg: err.Error()}
	}
	if err := handshake(pair[0], p); err != nil {
		return initFailed(proc, err)
	}
	return wait(proc, p, sigs)
}

// startInit starts the init stage: stdio already in place, preserved fds at
// their own numbers, the socket after them, an empty environment, a new
// session, and the parent-death signal until the init stage sets it again
// after the uid change. It returns the files to close once it has started.
func startInit(p *Plan, stdio [3]int, sock int) (*os.Process, []*os.File, error) {
	var files []*os.File
	file := func(fd int, name string) *os.File {
		f := os.NewFile(uintptr(fd), name)
		files = append(files, f)
		return f
	}
	next := 3
	if n := len(p.Preserve); n > 0 {
		next = p.Preserve[n-1] + 1
	}
	// Entry i becomes fd i in the child; nil entries are closed there.
	child := make([]*os.File, next+1)
	copy(child, []*os.File{os.Stdin, os.Stdout, os.Stderr})
	for i, fd := range stdio {
		if fd >= 0 {
			child[i] = file(fd, streamNames[i])
		}
	}
	for _, fd := range p.Preserve {
		child[fd] = os.NewFile(uintptr(fd), "preserved")
	}
	child[next] = file(sock, "init socket")
	proc, err := os.StartProcess("/proc/self/exe", []string{"daemonbox", InitArg, strconv.Itoa(next)}, &os.ProcAttr{
		Env: []string{}, Files: child,
		Sys: &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.Signal(p.ParentDeath)},
	})
	return proc, files, err
}

// handshake sends the plan and reads the init stage's answer (see protocol.go).
func handshake(sock int, p *Plan) error {
	child := *p
	child.Stdio = [3]spec.Stdio{{Kind: spec.StdioInherit}, {Kind: spec.StdioInherit}, {Kind: spec.StdioInherit}}
	if err := send(sock, message{Kind: "plan", Plan: &child}); err != nil {
		return &StepError{Step: "init", Op: "send plan", Msg: err.Error()}
	}
	for _, want := range []string{"ready", "eof"} {
		m, err := recv(sock)
		switch {
		case err != nil:
			return &StepError{Step: "init", Op: "read", Msg: err.Error()}
		case m == nil && want == "eof":
			return nil
		case m == nil:
			return errInitDied
		case m.Kind == "error" && m.Error != nil:
			return m.Error
		}
		if err := expect(m, want); err != nil {
			return &StepError{Step: "init", Msg: err.Error()}
		}
	}
	return nil
}

var errInitDied = errors.New("the init stage exited before the daemon started")

// initFailed reaps an init stage whose launch failed and names the cause.
func initFailed(proc *os.Process, err error) (int, error) {
	state, werr := proc.Wait()
	if err == errInitDied {
		if werr == nil {
			werr = errors.New(state.String())
		}
		return ExitFailure, &StepError{Step: "init", Msg: fmt.Sprintf("%v: %v", err, werr)}
	}
	return ExitCode(err), err
}

// wait supervises the running daemon: SIGTERM and SIGINT become the spec's
// stop signal, with SIGKILL after stop_timeout; the other forwarded signals
// pass as they are. It returns the daemon's status, or 128+n for signal n.
func wait(proc *os.Process, p *Plan, sigs chan os.Signal) (int, error) {
	done := make(chan *os.ProcessState, 1)
	go func() {
		state, _ := proc.Wait()
		done <- state
	}()
	var kill <-chan time.Time
	for {
		select {
		case s := <-sigs:
			if s == unix.SIGTERM || s == unix.SIGINT {
				s = syscall.Signal(p.Stop)
				if kill == nil {
					kill = time.After(p.StopTimeout)
				}
			}
			proc.Signal(s) // a pidfd underneath: never a reused pid
		case <-kill:
			proc.Kill()
		case state := <-done:
			signal.Stop(sigs)
			return exitStatus(state), nil
		}
	}
}

func exitStatus(ps *os.ProcessState) int {
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if ok && ws.Signaled() {
		return ExitSignalShift + int(ws.Signal())
	}
	return ps.ExitCode()
}
