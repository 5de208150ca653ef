package supervisor

import (
	"errors"
	"fmt"
	"github.com/daemonbox/daemonbox/sandbox"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/daemonbox/daemonbox/pidfile"
	"golang.org/x/sys/unix"
)

// The control commands find the daemon through its pidfile, and act on
// processes only through pidfds opened while the pidfile's lock showed them
// alive, so a pid that was reused is never signalled.

// LSB exit codes of status and of the other actions.
const (
	StatusRunning    = 0
	StatusDead       = 1 // not running, but a pidfile is left; or failed (see Status)
	StatusNotRunning = 3
	StatusUnknown    = 4
	ExitNotRunning   = 7 // reload or reopen-logs of a daemon that is not running
)

// Status prints whether the daemon runs, its pid and uptime, what the
// supervisor recorded of its past runs, and returns the LSB status code:
// 0 running or starting; 1 failed (the supervisor gave up, or does not
// restart a daemon that failed), restarting after a failure, or dead with
// a pidfile left; 3 not running; 4 unknown.
func Status(w io.Writer, p *sandbox.Plan) int {
	path := p.PidfilePath()
	st, err := pidfile.Read(path, p.PathGuard())
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(w, "%s: unknown: %v\n", p.Name, err)
		return StatusUnknown
	}
	rec := readState(w, p)
	switch {
	case err != nil && rec != nil && rec.state == recFailed:
		fmt.Fprintf(w, "%s: %s\n", p.Name, rec.failedLine())
		return StatusDead
	case err != nil:
		return statusInPlace(w, p)
	case !st.Running && st.PID == 0:
		fmt.Fprintf(w, "%s: dead, but its pidfile %s remains, empty: its supervisor ended while the daemon was starting or restarting\n", p.Name, path)
		return StatusDead
	case !st.Running:
		fmt.Fprintf(w, "%s: dead, but its pidfile %s remains (pid %d)\n", p.Name, path, st.PID)
		return StatusDead
	case st.PID == 0 && rec != nil:
		return statusRestarting(w, p, rec)
	case st.PID == 0:
		fmt.Fprintf(w, "%s: starting (supervised; no pid yet)\n", p.Name)
		return StatusRunning
	}
	statusRunning(w, p, st.PID, rec)
	return StatusRunning
}

// statusRestarting reports a daemon between two runs. One that failed is
// not running, and a crash loop must not pass for a running service: LSB
// 1, "dead and the pidfile exists", which it is until the next run. One
// that ended cleanly under restart = "always" is 0.
func statusRestarting(w io.Writer, p *sandbox.Plan, rec *record) int {
	fmt.Fprintf(w, "%s: restarting (%s)\n", p.Name, rec.history())
	if rec.last.code != 0 {
		return StatusDead
	}
	return StatusRunning
}

func statusRunning(w io.Writer, p *sandbox.Plan, pid int, rec *record) {
	extra := ""
	if up, err := uptime(pid); err == nil {
		extra = ", up " + up.Round(time.Second).String()
	}
	if rec != nil {
		extra += "; " + rec.history()
	}
	fmt.Fprintf(w, "%s: running (pid %d%s)\n", p.Name, pid, extra)
	listCgroup(w, p, pid)
}

// readState reads the state file beside the pidfile: nil if there is
// none; one that cannot be read is said, and ignored.
func readState(w io.Writer, p *sandbox.Plan) *record {
	text, err := pidfile.ReadState(p.PidfilePath(), p.PathGuard())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var r record
	if err == nil {
		r, err = parseRecord(text)
	}
	if err != nil {
		fmt.Fprintf(w, "  state file %s%s: %v (ignored)\n", p.PidfilePath(), pidfile.StateSuffix, err)
		return nil
	}
	return &r
}

// statusInPlace reports a daemon without a pidfile: one that runs in place
// with [resources] is found by its cgroup, if the record says the cgroup is
// this spec's.
func statusInPlace(w io.Writer, p *sandbox.Plan) int {
	o, err := findOrphan(p)
	switch {
	case err != nil:
		fmt.Fprintf(w, "%s: unknown: %v\n", p.Name, err)
		return StatusUnknown
	case o.ours && len(o.pids) > 0:
		fmt.Fprintf(w, "%s: running in place (no supervisor)\n", p.Name)
		printProcs(w, o.g, o.pids)
		return StatusRunning
	}
	fmt.Fprintf(w, "%s: not running\n", p.Name)
	if !o.ours && len(o.pids) > 0 {
		fmt.Fprintf(w, "  %v\n", o.notOurs(p))
	}
	return StatusNotRunning
}

// uptime reads how long pid has run, from its start time in /proc (clock
// ticks after boot; USER_HZ is 100 on every Linux architecture Go supports).
func uptime(pid int) (time.Duration, error) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count after it.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	if len(fields) < 20 {
		return 0, errors.New("short /proc stat")
	}
	ticks, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0, err
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0, err
	}
	return time.Duration(ts.Nano()) - time.Duration(ticks)*10*time.Millisecond, nil
}

// stopGrace is how long stop waits beyond stop_timeout for the supervisor,
// which has by then sent SIGKILL, to finish.
const stopGrace = 5 * time.Second

// Stop asks the supervisor to stop the daemon (signals.stop, then SIGKILL
// after stop_timeout) and waits until the supervisor is gone. Stopping a
// daemon that is not running succeeds, as LSB asks.
func Stop(w io.Writer, p *sandbox.Plan) (int, error) {
	sup, err := openSupervisor(p)
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, pidfile.ErrNotRunning) {
		return stopUnsupervised(w, p)
	}
	if err != nil {
		return sandbox.ExitFailure, sandbox.AtStep("stop", err)
	}
	defer unix.Close(sup)
	if err := unix.PidfdSendSignal(sup, unix.SIGTERM, nil, 0); err != nil && err != unix.ESRCH {
		return sandbox.ExitFailure, sandbox.AtStep("stop", sandbox.OpError("pidfd_send_signal", "SIGTERM", err))
	}
	// stop_timeout for the daemon, and again for what it leaves behind.
	if waitReadable(sup, 2*p.StopTimeout+stopGrace) {
		return 0, forgetState(p)
	}
	// The supervisor did not finish: end the daemon, then the supervisor.
	if d, err := openDaemon(p); err == nil {
		unix.PidfdSendSignal(d, unix.SIGKILL, nil, 0)
		unix.Close(d)
	}
	unix.PidfdSendSignal(sup, unix.SIGKILL, nil, 0)
	if waitReadable(sup, stopGrace) {
		return 0, stopLeft(p) // what the killed supervisor left in its cgroup
	}
	return sandbox.ExitFailure, &sandbox.StepError{Step: "stop", Msg: "the supervisor survived SIGKILL"}
}

// stopLeft ends what a supervisor that held this spec's pidfile, and was
// killed, left in its cgroup, which was therefore this spec's.
func stopLeft(p *sandbox.Plan) error {
	o, err := findOrphan(p)
	if err == nil && o.g != nil {
		_, err = stopGroup(p, o.g)
	}
	if err != nil {
		return sandbox.AtStep("stop", err)
	}
	return nil
}

// stopUnsupervised stops a daemon that has no supervisor. Only one that ran
// in place with [resources], as the record says, is found by its cgroup,
// whose processes are ended and which is removed with the record. Any other
// cgroup of the name is removed if empty and otherwise left alone: it may
// hold the daemon of another spec with the same name.
func stopUnsupervised(w io.Writer, p *sandbox.Plan) (int, error) {
	o, err := findOrphan(p)
	n := 0
	switch {
	case err != nil:
	case o.g != nil && len(o.pids) > 0 && !o.ours:
		fmt.Fprintf(w, "%s: not running\n", p.Name)
		return 0, o.notOurs(p)
	case o.g != nil && o.ours:
		n, err = stopGroup(p, o.g)
	case o.g != nil:
		err = o.g.Remove()
	}
	if err == nil && o.rec != nil {
		err = dropRecord(p)
	}
	if err == nil {
		err = forgetState(p)
	}
	if err != nil {
		return sandbox.ExitFailure, sandbox.AtStep("stop", err)
	}
	if n == 0 {
		fmt.Fprintf(w, "%s: not running\n", p.Name)
	} else {
		fmt.Fprintf(w, "%s: ended %d processes in its cgroup\n", p.Name, n)
	}
	return 0, nil
}

// forgetState removes the state file once the daemon is stopped: a failure
// it recorded is over.
func forgetState(p *sandbox.Plan) error {
	if err := pidfile.RemoveStateAt(p.PidfilePath(), p.PathGuard()); err != nil {
		return sandbox.AtStep("stop", err)
	}
	return nil
}

// Reload sends signals.reload to the daemon.
func Reload(p *sandbox.Plan) (int, error) {
	d, err := openDaemon(p)
	if err != nil {
		return notRunning("reload", err)
	}
	defer unix.Close(d)
	if err := unix.PidfdSendSignal(d, syscall.Signal(p.Reload), nil, 0); err != nil {
		return sandbox.ExitFailure, sandbox.AtStep("reload", sandbox.OpError("pidfd_send_signal", strconv.Itoa(p.Reload), err))
	}
	return 0, nil
}

// ReopenLogs asks the supervisor to open the log files again, after a
// rotation moved them away.
func ReopenLogs(p *sandbox.Plan) (int, error) {
	sup, err := openSupervisor(p)
	if err != nil {
		return notRunning("reopen-logs", err)
	}
	defer unix.Close(sup)
	if err := unix.PidfdSendSignal(sup, reopenSignal, nil, 0); err != nil {
		return sandbox.ExitFailure, sandbox.AtStep("reopen-logs", sandbox.OpError("pidfd_send_signal", "SIGRTMIN+2", err))
	}
	return 0, nil
}

func notRunning(step string, err error) (int, error) {
	if errors.Is(err, os.ErrNotExist) || errors.Is(err, pidfile.ErrNotRunning) || err == errNoPID {
		return ExitNotRunning, &sandbox.StepError{Step: step, Msg: "the daemon is not running"}
	}
	return sandbox.ExitFailure, sandbox.AtStep(step, err)
}

// openSupervisor returns a pidfd on the process holding the pidfile's lock,
// checked to hold it still after the pidfd was opened.
func openSupervisor(p *sandbox.Plan) (int, error) {
	path := p.PidfilePath()
	pid, err := pidfile.Owner(path, p.PathGuard())
	if err != nil {
		return -1, err
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, sandbox.OpError("pidfd_open", strconv.Itoa(pid), err)
	}
	if again, err := pidfile.Owner(path, p.PathGuard()); err != nil || again != pid {
		unix.Close(fd)
		return -1, fmt.Errorf("pidfile %s: %w", path, pidfile.ErrNotRunning)
	}
	return fd, nil
}

var errNoPID = errors.New("the daemon is starting or restarting: no pid yet")

// openDaemon returns a pidfd on the pid in the pidfile, checked to be still
// there, under the lock, after the pidfd was opened. The supervisor removes
// or empties the file before it reaps the daemon, so a pid read under the
// lock names a live or unreaped process, never a reused one.
func openDaemon(p *sandbox.Plan) (int, error) {
	path := p.PidfilePath()
	st, err := pidfile.Read(path, p.PathGuard())
	switch {
	case err != nil:
		return -1, err
	case !st.Running:
		return -1, fmt.Errorf("pidfile %s: %w", path, pidfile.ErrNotRunning)
	case st.PID == 0:
		return -1, errNoPID
	}
	fd, err := unix.PidfdOpen(st.PID, 0)
	if err != nil {
		return -1, sandbox.OpError("pidfd_open", strconv.Itoa(st.PID), err)
	}
	if again, err := pidfile.Read(path, p.PathGuard()); err != nil || again != st {
		unix.Close(fd)
		return -1, fmt.Errorf("pidfile %s: %w", path, pidfile.ErrNotRunning)
	}
	return fd, nil
}
