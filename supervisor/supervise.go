package supervisor

import (
	"fmt"
	"github.com/daemonbox/daemonbox/sandbox"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/daemonbox/daemonbox/cgroup"
	"github.com/daemonbox/daemonbox/pidfile"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// forwarded are the signals a supervisor passes on to the daemon.
var forwarded = []os.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2}

// reopenSignal asks a supervisor to reopen its log files (daemonbox
// reopen-logs): SIGRTMIN+2, since every classic signal that means something
// to a daemon is forwarded to it.
const reopenSignal = sigRTMin + 2

// sigRTMin is SIGRTMIN as the C library numbers it, and so as kill(1) and
// logrotate's scripts do: the kernel's 32, past the two that glibc keeps.
const sigRTMin = syscall.Signal(34)

// supervisor runs one daemon for its whole life: it holds the pidfile,
// copies the logs, listens for readiness, starts the daemon through an init
// stage, forwards signals, applies the restart policy and cleans up.
type supervisor struct {
	plan     *sandbox.Plan
	stdio    [3]int // the daemon's stdio; -1 is the supervisor's own
	listen   []int  // the listen sockets, opened once: every run gets the same ones
	logs     logs
	pidfile  *pidfile.File // nil without one
	notify   *notifySocket // nil unless ready = "notify"
	cgroup   *cgroup.Group // the daemon's; nil without one
	ooms     uint64        // OOM kills in it before the current run
	sigs     chan os.Signal
	caught   <-chan struct{}          // closed once sigs and chld are registered (catchSignals)
	chld     chan os.Signal           // SIGCHLD: an orphan of the daemon's to reap
	started  func(pid int, err error) // told the first start's outcome, once
	stopping bool
	restart  restarter
	ran      time.Duration // how long the last run lasted
	dirs     bool          // this supervisor made [directories]: it removes the runtime ones
	journal  bool          // its stderr is systemd's journal
	wasReady bool          // a run became ready: only then is the daemon restarted
	restarts int           // since the start, for status
	last     lastExit      // how the last run ended
}

// daemon is one run of the daemon.
type daemon struct {
	pid, pidfd int
	since      time.Time
	ready      bool
	pinged     bool               // a WATCHDOG=1 came, not yet acted on
	why        string             // what the supervisor did to end it: " (watchdog: ...)"
	target     int                // pidfd that signals go to: the daemon's, or MAINPID's
	mainPID    int                // from MAINPID=, or the daemon under a PID 1 of daemonbox's; 0 if none
	pid1       bool               // pid is daemonbox's PID 1 of a PID namespace, mainPID the daemon
	image      *sandbox.OneImage  // launched by the supervisor itself: ended (its PID 1) once the daemon is reaped
	exited     chan int           // its status; it stays a zombie until reaped
	failure    *sandbox.StepError // why it never became ready
}

// supervise runs the daemon to its end and returns daemonbox's exit code.
// started, if not nil, learns when the daemon first became ready, or why it
// did not.
func supervise(p *sandbox.Plan, stdio [3]int, listen []int, started func(int, error)) (int, error) {
	s := &supervisor{plan: p, stdio: stdio, listen: listen, started: started, restart: restarter{policy: p.Restart}, journal: stderrIsJournal()}
	// The signals stay caught when supervise returns: its callers exit
	// then, and signal.Stop would cost what Notify did.
	s.catchSignals()
	defer s.cleanup()
	if err := s.setup(); err != nil {
		s.tell(0, err)
		return sandbox.ExitCode(err), err
	}
	return s.loop()
}

// catchSignals registers the supervisor's signals on a goroutine of its
// own: os/signal hands each one to the runtime's signal thread and waits
// for it, some 1.5 ms for all of them here, which so overlap the setup and
// the launch up to PID 1's fork or the launch sent to the stage, which
// wait for s.caught (sandbox.Hooks): no signal meant for the daemon is
// lost, and one that comes before ends the supervisor as SIGKILL would,
// with nothing started but a stage, which ends at its socket's EOF.
func (s *supervisor) catchSignals() {
	s.sigs = make(chan os.Signal, 8)
	s.chld = make(chan os.Signal, 1)
	caught := make(chan struct{})
	s.caught = caught
	go func() {
		signal.Notify(s.sigs, append(forwarded, reopenSignal)...)
		signal.Notify(s.chld, unix.SIGCHLD)
		close(caught)
	}()
}

// hooks are what a launch needs of the supervisor.
func (s *supervisor) hooks() sandbox.Hooks {
	return sandbox.Hooks{Adopt: s.adoptNotify, Caught: s.caught}
}

// setup takes what the daemon's whole life needs: the pidfile first, so
// that a second start fails before it touches anything.
func (s *supervisor) setup() error {
	if err := becomeSubreaper(); err != nil {
		return sandbox.AtStep("supervise", err)
	}
	// A daemon that runs as the supervisor's own host uid (rootless, or
	// uid 0 without a user namespace) could otherwise ptrace it or read
	// its /proc files, and so act outside its confinement (P09).
	if err := sandbox.SetDumpable(false); err != nil {
		return sandbox.AtStep("supervise", err)
	}
	if s.plan.Pidfile != "" {
		f, err := pidfile.Claim(s.plan.Pidfile, s.plan.PathGuard())
		if err != nil {
			return &sandbox.StepError{Step: "pidfile", Msg: err.Error()}
		}
		s.pidfile = f
		// A failure recorded by an earlier supervisor is over.
		if err := f.RemoveState(); err != nil {
			return &sandbox.StepError{Step: "pidfile", Msg: err.Error()}
		}
	}
	if err := s.makeCgroup(); err != nil {
		return err
	}
	if err := sandbox.MakeDirectories(s.plan); err != nil {
		return err
	}
	s.dirs = true
	if err := sandbox.PrepareMountPoints(&s.plan.Launch); err != nil {
		return sandbox.AtStep("mounts", err)
	}
	var err error
	if s.logs, err = pipeLogs(s.plan, &s.stdio); err != nil {
		return err
	}
	if s.plan.Ready == spec.ReadyNotify || s.plan.Watchdog > 0 {
		if s.notify, err = newNotifySocket(); err != nil {
			return sandbox.AtStep("notify", err)
		}
	}
	return nil
}

// makeCgroup makes the daemon's cgroup, after the pidfile's claim so that a
// second start touches nothing; none for a foreground run that its PID
// namespace contains (NamespaceEndsAll). Without [resources], a host where none can
// be made leaves the daemon without one, and says so; but a cgroup that
// holds another daemon is refused either way (checkFree).
func (s *supervisor) makeCgroup() error {
	if s.plan.NamespaceEndsAll() {
		return nil
	}
	if err := checkFree(s.plan); err != nil {
		return err
	}
	g, err := makeCgroup(s.plan)
	if err != nil && s.plan.Cgroup.Set {
		return err
	}
	if err != nil {
		s.warnf("%s: no cgroup: %v", s.plan.Name, err)
	}
	s.cgroup = g
	return nil
}

// loop runs the daemon, again as the restart policy says. A run that
// failed (the launch, or readiness) and is not followed by another returns
// its error, for the caller to report: one that waits for the start, or
// the user of a foreground run.
func (s *supervisor) loop() (int, error) {
	for {
		code, err := s.once()
		final := !s.restarting(code)
		if err != nil && (s.started != nil || final) {
			s.tell(0, err)
			return code, err
		}
		if err != nil {
			s.errorf("%v", err)
		}
		if final {
			return code, nil
		}
		delay, ok := s.restart.next(time.Now(), s.ran)
		if !ok {
			s.errorf("%s restarted %d times within %v; giving up", s.plan.Name, startLimit, startWindow)
			s.record(recFailed, fmt.Sprintf("gave up after %d restarts", s.restarts))
			return code, err
		}
		s.restarts++
		s.record(recRestarting, "")
		s.warnf("%s ended (%s); restarting in %v", s.plan.Name, s.last.how, delay)
		if !s.pause(delay) {
			s.forget()
			return code, nil
		}
	}
}

// once starts the daemon and supervises it until it ends.
func (s *supervisor) once() (int, error) {
	d, err := s.start()
	if err != nil {
		s.last = lastExit{how: err.Error(), code: sandbox.ExitCode(err), at: time.Now()}
		return s.last.code, err
	}
	return s.run(d)
}

// start launches the daemon, from the supervisor's own image when the
// plan allows it (sandbox.UseOneImage), else through an init stage
// (sandbox.Spawn), and returns once it has been exec'd.
func (s *supervisor) start() (*daemon, error) {
	l := s.plan.Launch
	if s.notify != nil {
		l.NotifySocket = s.notify.name
	}
	if s.plan.Watchdog > 0 {
		// No WATCHDOG_PID: the daemon's pid is not known before the
		// fork, and in a PID namespace it is another number.
		l.Env = append(slices.Clip(l.Env), "WATCHDOG_USEC="+strconv.FormatInt(s.plan.Watchdog.Microseconds(), 10))
	}
	if s.cgroup != nil {
		s.ooms, _ = s.cgroup.OOMKills()
	}
	one, err := sandbox.UseOneImage(s.plan, s.cgroup)
	if err != nil {
		return nil, err
	}
	if one {
		return s.startOne(&l)
	}
	st, err := sandbox.Spawn(&l, s.stdio, s.listen, s.cgroup, s.hooks())
	if err != nil {
		return nil, err
	}
	d := &daemon{pid: st.PID, pidfd: st.Pidfd, target: st.Pidfd, since: time.Now(), exited: make(chan int, 1)}
	if st.Daemon > 0 && st.Daemon != st.PID {
		if err := d.underInit(st.Daemon); err != nil {
			unix.PidfdSendSignal(st.Pidfd, unix.SIGKILL, nil, 0)
			sandbox.WaitPidfd(st.Pidfd, true)
			unix.Close(st.Pidfd)
			return nil, err
		}
	}
	d.watch()
	return d, nil
}

// startOne launches the daemon from the supervisor's own image
// (sandbox.LaunchOne): the daemon is the supervisor's child, with no
// stage between them.
func (s *supervisor) startOne(l *sandbox.Launch) (*daemon, error) {
	o, err := sandbox.LaunchOne(l, s.stdio, s.listen, s.cgroup, s.hooks())
	if err != nil {
		return nil, err
	}
	d := &daemon{pid: o.PID, pidfd: o.Pidfd, target: o.Pidfd, since: time.Now(), exited: make(chan int, 1), image: o}
	d.watch()
	return d, nil
}

// run supervises a started daemon until it ends: SIGTERM and SIGINT become
// the spec's stop signal, with SIGKILL after stop_timeout; the other
// forwarded signals pass as they are. It returns the daemon's status, 128+n
// for signal n, and an error if it never became ready.
func (s *supervisor) run(d *daemon) (int, error) {
	t := s.arm(d)
	defer t.stop()
	for {
		select {
		case sig := <-s.sigs:
			if s.forward(d, sig) && t.kill == nil {
				t.kill = time.After(s.plan.StopTimeout)
			}
		case <-t.kill:
			s.kill(d)
		case <-t.readyBy:
			d.failure = &sandbox.StepError{Step: "ready", Msg: fmt.Sprintf("no READY=1 within %v; the daemon was killed", s.plan.ReadyTimeout)}
			unix.PidfdSendSignal(d.pidfd, unix.SIGKILL, nil, 0)
		case <-t.settled:
			t.settled = nil
			s.ready(d)
		case <-t.watchdogC():
			s.watchdogMissed(d, t)
		case n := <-s.notices():
			s.heard(d, n)
			t.heard(d, s.plan.Watchdog)
		case <-s.chld:
			reapOrphans(d.pid, d.mainPID)
		case code := <-d.exited:
			if s.handOver(d) {
				continue
			}
			return s.end(d, code)
		}
	}
}

// timers are a run's deadlines; a nil channel is one not armed.
type timers struct {
	readyBy  <-chan time.Time // READY=1 by then (ready = "notify")
	settled  <-chan time.Time // start_settle over: the start succeeds
	kill     <-chan time.Time // stop_timeout over: SIGKILL
	watchdog *time.Timer      // WATCHDOG=1 by then
	held     []*time.Timer    // to stop
}

// arm sets a run's first deadlines. With ready = "exec" the daemon is
// ready at once, or, on the first start with start_settle, once it has
// lived that long.
func (s *supervisor) arm(d *daemon) *timers {
	t := &timers{}
	switch {
	case s.plan.Ready == spec.ReadyNotify:
		t.readyBy = t.after(s.plan.ReadyTimeout)
	case s.plan.StartSettle > 0 && s.started != nil:
		t.settled = t.after(s.plan.StartSettle)
	default:
		s.ready(d)
	}
	if s.plan.Watchdog > 0 {
		t.watchdog = time.NewTimer(s.plan.Watchdog)
		t.held = append(t.held, t.watchdog)
	}
	return t
}

func (t *timers) after(d time.Duration) <-chan time.Time {
	tm := time.NewTimer(d)
	t.held = append(t.held, tm)
	return tm.C
}

func (t *timers) stop() {
	for _, tm := range t.held {
		tm.Stop()
	}
}

func (t *timers) watchdogC() <-chan time.Time {
	if t.watchdog == nil {
		return nil
	}
	return t.watchdog.C
}

// heard acts on what a notice changed: READY=1 ends the wait for it, and
// WATCHDOG=1 puts the watchdog's deadline off.
func (t *timers) heard(d *daemon, watchdog time.Duration) {
	if d.ready {
		t.readyBy = nil
	}
	if d.pinged && t.watchdog != nil {
		t.watchdog.Reset(watchdog)
	}
	d.pinged = false
}

// watchdogMissed ends a daemon that sent no WATCHDOG=1 in time, as systemd
// does: SIGABRT (for a core dump), then SIGKILL after stop_timeout. Its end
// is a failure, for the restart policy.
func (s *supervisor) watchdogMissed(d *daemon, t *timers) {
	d.why = fmt.Sprintf(" (watchdog: no WATCHDOG=1 within %v)", s.plan.Watchdog)
	s.errorf("%s: watchdog: no WATCHDOG=1 within %v; sending SIGABRT", s.plan.Name, s.plan.Watchdog)
	unix.PidfdSendSignal(d.target, unix.SIGABRT, nil, 0)
	if t.kill == nil {
		t.kill = time.After(s.plan.StopTimeout)
	}
}

// kill ends the daemon once stop_timeout is over: with everything in its
// cgroup, if it has one.
func (s *supervisor) kill(d *daemon) {
	unix.PidfdSendSignal(d.target, unix.SIGKILL, nil, 0)
	if s.cgroup != nil {
		if err := s.cgroup.Kill(stopGrace); err != nil {
			s.errorf("%v", err)
		}
	}
}

// forward handles one signal sent to the supervisor; true means a stop began.
func (s *supervisor) forward(d *daemon, sig os.Signal) bool {
	switch sig {
	case reopenSignal:
		s.reopenLogs()
		return false
	case unix.SIGTERM, unix.SIGINT:
		s.stopping = true
		sig = syscall.Signal(s.plan.Stop)
	}
	unix.PidfdSendSignal(d.target, sig.(syscall.Signal), nil, 0) // a pidfd: never a reused pid
	return s.stopping
}

// ready records that the daemon is up: its pid goes in the pidfile, and
// whoever waits for the start is told.
func (s *supervisor) ready(d *daemon) {
	if err := s.writePID(s.mainPID(d)); err != nil {
		d.failure = err
		unix.PidfdSendSignal(d.pidfd, unix.SIGKILL, nil, 0)
		return
	}
	d.ready = true
	s.wasReady = true
	s.tell(s.mainPID(d), nil)
	notifyManager(s.plan.Manager, "READY=1\nMAINPID="+strconv.Itoa(os.Getpid()))
	// Once the daemon has settled: the launch's code is not needed until
	// the next one (trim.go). Not at once: a daemon that ends within
	// trimDelay (a foreground run of a short job) would have the
	// supervisor fault back the code it ends with, about a millisecond.
	time.AfterFunc(trimDelay, trimImage)
}

func (s *supervisor) writePID(pid int) *sandbox.StepError {
	if s.pidfile == nil {
		return nil
	}
	if err := s.pidfile.Write(pid); err != nil {
		return &sandbox.StepError{Step: "pidfile", Msg: err.Error()}
	}
	return nil
}

// end handles the daemon's exit. The pidfile is emptied (a restart follows)
// or removed before the daemon is reaped, so that as long as the file names
// a pid, that pid cannot be reused.
func (s *supervisor) end(d *daemon, code int) (int, error) {
	again := s.restarting(code)
	s.ended(d, code, again)
	if s.pidfile != nil {
		if again {
			s.pidfile.Clear()
		} else {
			s.pidfile.Remove()
			s.pidfile = nil
		}
	}
	sandbox.WaitPidfd(d.pidfd, true)
	if d.image != nil {
		d.image.End() // PID 1, and with it the namespace and anything left in it
	}
	s.ran = time.Since(d.since)
	if d.target != d.pidfd {
		unix.Close(d.target)
	}
	unix.Close(d.pidfd)
	s.endLeftovers()
	if d.ready {
		return code, nil
	}
	if d.failure == nil {
		d.failure = &sandbox.StepError{Step: "ready", Msg: s.notReady(code)}
	}
	return code, d.failure
}

// restarting reports whether a run that ended with code is followed by
// another: as the policy says, unless a stop came, or no run has been
// ready yet (a failed start fails).
func (s *supervisor) restarting(code int) bool {
	return s.wasReady && !s.stopping && s.restart.again(code)
}

// ended notes how a run ended in the state file, while the pidfile is
// still held; a restart is recorded by loop, once it is decided.
func (s *supervisor) ended(d *daemon, code int, again bool) {
	s.last = lastExit{how: sandbox.DescribeStatus(code, nil) + d.why, code: code, at: time.Now()}
	switch {
	case s.started != nil: // a start that fails leaves nothing behind
	case s.stopping || (!again && code == 0 && d.ready):
		s.forget()
	case again: // recorded by loop, which counts the restart
	case !s.wasReady:
		s.record(recFailed, "it never became ready")
	default:
		s.record(recFailed, fmt.Sprintf("not restarted (restart = %q)", s.plan.Restart))
	}
}

// record writes the state file. A failure to is logged: status then knows
// less, and the daemon is not affected.
func (s *supervisor) record(state, reason string) {
	if s.pidfile == nil {
		return
	}
	r := record{state: state, reason: reason, restarts: s.restarts, last: s.last}
	if err := s.pidfile.WriteState(r.text()); err != nil {
		s.errorf("state: %v", err)
	}
}

// forget removes the state file: the daemon was stopped, or ended cleanly.
func (s *supervisor) forget() {
	if s.pidfile == nil {
		return
	}
	if err := s.pidfile.RemoveState(); err != nil {
		s.errorf("state: %v", err)
	}
}

// notReady says how a daemon ended before it was ready.
func (s *supervisor) notReady(code int) string {
	how := sandbox.DescribeStatus(code, nil)
	if s.plan.Ready == spec.ReadyExec && s.plan.StartSettle > 0 {
		return fmt.Sprintf("the daemon ended (%s) within start_settle (%v)", how, s.plan.StartSettle)
	}
	return fmt.Sprintf("the daemon ended (%s) before it was ready", how)
}

// endLeftovers ends what the daemon left running: everything in its
// cgroup, then any child of the supervisor's outside it, each reaped; and
// reports OOM kills in the cgroup during the run.
func (s *supervisor) endLeftovers() {
	n := 0
	if s.cgroup != nil {
		var err error
		if n, err = endGroup(s.cgroup, syscall.Signal(s.plan.Stop), s.plan.StopTimeout); err != nil {
			s.errorf("%v", err)
		}
		if now, err := s.cgroup.OOMKills(); err == nil && now > s.ooms {
			s.errorf("%s", oomMessage(s.plan, now-s.ooms))
		}
	}
	n = max(n, endLeftovers(syscall.Signal(s.plan.Stop), s.plan.StopTimeout))
	if n > 0 {
		s.warnf("%s: ended %d processes it left behind", s.plan.Name, n)
	}
}

// pause waits out a restart delay; false means a stop came meanwhile.
func (s *supervisor) pause(delay time.Duration) bool {
	t := time.NewTimer(delay)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			return true
		case sig := <-s.sigs:
			switch sig {
			case unix.SIGTERM, unix.SIGINT:
				s.stopping = true
				return false
			case reopenSignal:
				s.reopenLogs()
			}
		}
	}
}

func (s *supervisor) reopenLogs() {
	if err := s.logs.reopen(); err != nil {
		s.errorf("reopen logs: %v", err)
	}
}

func (s *supervisor) tell(pid int, err error) {
	if s.started != nil {
		s.started(pid, err)
		s.started = nil
	}
}

// logf writes one of the supervisor's own lines, at info priority: into
// the stderr log if there is one, else to its own stderr.
func (s *supervisor) logf(format string, args ...any) { s.logAt(prioInfo, format, args...) }

func (s *supervisor) warnf(format string, args ...any) { s.logAt(prioWarning, format, args...) }

func (s *supervisor) errorf(format string, args ...any) { s.logAt(prioErr, format, args...) }

// logAt writes a line, stamped (logline.go); the journal's prefix only on
// a stderr that is the journal, a log file being the supervisor's own.
func (s *supervisor) logAt(prio int, format string, args ...any) {
	msg := fmt.Sprintf("daemonbox: "+format, args...)
	if s.logs.printf("%s", logLine(false, prio, time.Now(), msg)) {
		return
	}
	os.Stderr.WriteString(logLine(s.journal, prio, time.Now(), msg))
}

// removeCgroup removes the daemon's cgroup once the daemon is gone,
// ending first anything still in it.
func (s *supervisor) removeCgroup() {
	if s.cgroup == nil {
		return
	}
	err := s.cgroup.Kill(stopGrace)
	if err == nil {
		err = s.cgroup.Remove()
	}
	if err != nil {
		s.errorf("%v", err)
	}
	s.cgroup = nil
}

// cleanup releases everything setup took, the pidfile last but for logs,
// which may still carry the daemon's last lines.
func (s *supervisor) cleanup() {
	if s.notify != nil {
		s.notify.close()
	}
	s.removeCgroup()
	if s.dirs {
		if err := sandbox.RemoveRuntimeDirectories(s.plan); err != nil {
			s.logf("%v", err)
		}
	}
	if s.pidfile != nil {
		s.pidfile.Remove()
	}
	s.logs.close()
	sandbox.CloseAll(s.listen)
	for i, fd := range s.stdio {
		if fd >= 0 && (s.logs[i] == nil || s.logs[i].write != fd) {
			unix.Close(fd)
		}
	}
}
