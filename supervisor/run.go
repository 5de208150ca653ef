// Package supervisor holds everything after the daemon's exec: the
// supervisor that stays beside it (the pidfile, logs, readiness, signals,
// restarts, what the daemon leaves behind), detaching with start, and the
// control commands that find a running daemon through its pidfile.
package supervisor

import (
	"slices"

	"github.com/daemonbox/daemonbox/proctitle"
	"github.com/daemonbox/daemonbox/sandbox"
)

// Run launches the daemon that p describes and returns daemonbox's exit code.
//
// A detached plan goes to Start. Otherwise, when nothing needs a supervisor
// (see sandbox.Plan.NeedsSupervisor) and daemonbox can become the daemon's session
// leader itself (it is not a process-group leader, as under systemd, a
// script or another program), it applies the sequence to itself and execs
// in place: one process image, nothing left resident, and Run returns only
// on failure. Otherwise it spawns an init stage in a new session and stays
// as its supervisor in the foreground.
//
// Run must be called from an init function, as cmd/daemonbox does: Go runs
// those on the process's first thread and keeps the goroutine there, and
// every step changes the state of the thread that will call execve.
func Run(p *sandbox.Plan) (int, error) {
	if p.Detach {
		return Start(p)
	}
	code, err := runHere(p)
	if err != nil {
		sandbox.RemoveUnusedLogs(p)
	}
	return code, err
}

// runHere runs the daemon from this process: in place, or supervised.
func runHere(p *sandbox.Plan) (int, error) {
	// Before anything is opened, so that an fd the caller did not pass
	// cannot be taken by one of ours and handed on as "preserved".
	if err := sandbox.CheckPreserved(p.Preserve); err != nil {
		return sandbox.ExitFailure, err
	}
	stdio, err := sandbox.OpenStdio(p)
	if err != nil {
		return sandbox.ExitFailure, err
	}
	// With daemonbox's privileges, in the host's network namespace, and
	// before the inherited fds close: systemd's sockets are among them.
	listen, err := sandbox.OpenListen(&p.Launch)
	if err != nil {
		sandbox.CloseAll(stdio[:])
		return sandbox.ExitFailure, err
	}
	if sandbox.InPlace() && !p.NeedsSupervisor() {
		err := sandbox.MakeDirectories(p)
		if err == nil {
			err = enterCgroup(p)
		}
		if err != nil {
			sandbox.CloseAll(append(stdio[:], listen...))
			return sandbox.ExitFailure, err
		}
		err = sandbox.ExecInPlace(&p.Launch, stdio, listen)
		return sandbox.ExitCode(err), err
	}
	// The supervisor stays beside the daemon for its whole life: it keeps
	// only the fds it passes on.
	if err := sandbox.CloseInherited(func(fd int) bool { return slices.Contains(p.Preserve, fd) }); err != nil {
		sandbox.CloseAll(append(stdio[:], listen...))
		return sandbox.ExitFailure, sandbox.AtStep("fds", err)
	}
	// The command line is the caller's (it names the spec file); the comm
	// tells this supervisor from another's.
	proctitle.SetComm(proctitle.Comm(p.Name))
	return supervise(p, stdio, listen, nil)
}
