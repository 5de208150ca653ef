package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/pidfile"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// InitArg is argv[1] of the init stage: daemonbox re-executed to run the
// launch sequence in a child, with its socket's fd number as argv[2].
const InitArg = "__daemonbox_init"

// IsInit reports whether args are those of an init stage. An init stage
// that is PID 1 of a PID namespace starts the daemon's own stage with a
// second fd: the supervisor's socket, to answer on (see pid1).
func IsInit(args []string) bool { return (len(args) == 3 || len(args) == 4) && args[1] == InitArg }

// InitMain is the init stage: it receives the plan, runs the sequence and
// execs the daemon. It returns only on failure, after telling the supervisor.
// Like Run, it must be called from an init function.
func InitMain(args []string) int {
	closed := closeInherited(upTo(lastFD(args)))
	sock, plan := receivePlan(args, "the init stage is started by daemonbox run")
	if plan == nil {
		return ExitFailure
	}
	if closed != nil {
		send(sock, message{Kind: "error", Error: stepError("fds", closed)})
		return ExitFailure
	}
	if len(args) == 4 {
		unix.Close(sock)
		if sock, _ = strconv.Atoi(args[3]); sock < 3 {
			return ExitFailure
		}
		unix.CloseOnExec(sock)
	}
	l := &launch{
		plan: plan, stdio: [3]int{-1, -1, -1}, sock: sock, newRoot: -1,
		supervised: true, parent: os.Getppid(),
		ready: func() error { return send(sock, message{Kind: "ready"}) },
	}
	send(sock, message{Kind: "error", Error: l.run()})
	return ExitFailure
}

// lastFD is the highest fd number a re-executed stage's argv names: the
// end of the layout its parent gave it.
func lastFD(args []string) int {
	last := -1
	for _, a := range args[2:] {
		if fd, err := strconv.Atoi(a); err == nil && fd > last {
			last = fd
		}
	}
	return last
}

// receivePlan reads the socket's fd number from argv[2] of a re-executed
// stage, and the plan sent on it; nil if there is none. who says who starts
// the stage, for a person who ran it by hand.
func receivePlan(args []string, who string) (int, *Plan) {
	sock, err := strconv.Atoi(args[2])
	if err != nil {
		fmt.Fprintf(os.Stderr, "daemonbox: %s, not by hand\n", who)
		return -1, nil
	}
	unix.CloseOnExec(sock)
	m, err := recv(sock)
	if err != nil || m == nil || m.Kind != "plan" {
		return sock, nil
	}
	return sock, m.Plan
}

// forwarded are the signals a supervisor passes on to the daemon.
var forwarded = []os.Signal{unix.SIGTERM, unix.SIGINT, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2}

// reopenSignal asks a supervisor to reopen its log files (daemonbox
// reopen-logs): SIGRTMIN+2, since every classic signal that means something
// to a daemon is forwarded to it.
const reopenSignal = syscall.Signal(34 + 2)

// supervisor runs one daemon for its whole life: it holds the pidfile,
// copies the logs, listens for readiness, starts the daemon through an init
// stage, forwards signals, applies the restart policy and cleans up.
type supervisor struct {
	plan     *Plan
	stdio    [3]int // the daemon's stdio; -1 is the supervisor's own
	logs     logs
	pidfile  *pidfile.File // nil without one
	notify   *notifySocket // nil unless ready = "notify"
	sigs     chan os.Signal
	chld     chan os.Signal           // SIGCHLD: an orphan of the daemon's to reap
	started  func(pid int, err error) // told the first start's outcome, once
	stopping bool
	restart  restarter
	ran      time.Duration // how long the last run lasted
}

// daemon is one run of the daemon.
type daemon struct {
	pid, pidfd int
	since      time.Time
	ready      bool
	target     int        // pidfd that signals go to: the daemon's, or MAINPID's
	mainPID    int        // from MAINPID=, or the daemon under a PID 1 of daemonbox's; 0 if none
	pid1       bool       // pid is daemonbox's PID 1 of a PID namespace, mainPID the daemon
	exited     chan int   // its status; it stays a zombie until reaped
	failure    *StepError // why it never became ready
}

// supervise runs the daemon to its end and returns daemonbox's exit code.
// started, if not nil, learns when the daemon first became ready, or why it
// did not.
func supervise(p *Plan, stdio [3]int, started func(int, error)) (int, error) {
	s := &supervisor{plan: p, stdio: stdio, started: started, restart: restarter{policy: p.Restart}}
	// Before the start, so that no signal is lost while the daemon launches.
	s.sigs = make(chan os.Signal, 8)
	signal.Notify(s.sigs, append(forwarded, reopenSignal)...)
	defer signal.Stop(s.sigs)
	s.chld = make(chan os.Signal, 1)
	signal.Notify(s.chld, unix.SIGCHLD)
	defer signal.Stop(s.chld)
	defer s.cleanup()
	if err := s.setup(); err != nil {
		s.tell(0, err)
		return ExitCode(err), err
	}
	return s.loop()
}

// setup takes what the daemon's whole life needs: the pidfile first, so
// that a second start fails before it touches anything.
func (s *supervisor) setup() error {
	if err := becomeSubreaper(); err != nil {
		return stepError("supervise", err)
	}
	// A daemon that runs as the supervisor's own host uid (rootless, or
	// uid 0 without a user namespace) could otherwise ptrace it or read
	// its /proc files, and so act outside its confinement (P09).
	if err := setDumpable(false); err != nil {
		return stepError("supervise", err)
	}
	if s.plan.Pidfile != "" {
		f, err := pidfile.Claim(s.plan.Pidfile, pathGuard(s.plan))
		if err != nil {
			return &StepError{Step: "pidfile", Msg: err.Error()}
		}
		s.pidfile = f
	}
	if err := makeMountPoints(s.plan); err != nil {
		return stepError("mounts", err)
	}
	var err error
	if s.logs, err = pipeLogs(s.plan, &s.stdio); err != nil {
		return err
	}
	if s.plan.Ready == "notify" {
		if s.notify, err = newNotifySocket(); err != nil {
			return stepError("notify", err)
		}
	}
	return nil
}

// loop runs the daemon, again as the restart policy says. A run that
// failed (the launch, or readiness) and is not followed by another returns
// its error, for the caller to report: one that waits for the start, or
// the user of a foreground run.
func (s *supervisor) loop() (int, error) {
	for {
		code, err := s.once()
		final := s.stopping || !s.restart.again(code)
		if err != nil && (s.started != nil || final) {
			s.tell(0, err)
			return code, err
		}
		if err != nil {
			s.logf("%v", err)
		}
		if final {
			return code, nil
		}
		delay, ok := s.restart.next(time.Now(), s.ran)
		if !ok {
			s.logf("%s restarted %d times within %v; giving up", s.plan.Name, startLimit, startWindow)
			return code, err
		}
		s.logf("%s ended with status %d; restarting in %v", s.plan.Name, code, delay)
		if !s.pause(delay) {
			return code, nil
		}
	}
}

// once starts the daemon and supervises it until it ends.
func (s *supervisor) once() (int, error) {
	d, err := s.start()
	if err != nil {
		return ExitCode(err), err
	}
	return s.run(d)
}

// start launches the daemon through an init stage and returns once it has
// been exec'd.
func (s *supervisor) start() (*daemon, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, stepError("init", opError("socketpair", "", err))
	}
	defer unix.Close(pair[0])
	if err := unix.SetsockoptInt(pair[0], unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
		return nil, stepError("init", opError("setsockopt SO_PASSCRED", "", err))
	}
	pid, pidfd, err := s.startInit(pair[1])
	unix.Close(pair[1])
	if err != nil {
		return nil, &StepError{Step: "init", Op: "start", Path: "/proc/self/exe", Msg: err.Error()}
	}
	from, err := handshake(pair[0], s.childPlan(), s.adoptNotify)
	if err != nil {
		status, werr := waitPidfd(pidfd, true)
		unix.Close(pidfd)
		if err == errInitDied {
			return nil, &StepError{Step: "init", Msg: fmt.Sprintf("%v (%s)", err, describeStatus(status, werr))}
		}
		return nil, err
	}
	d := &daemon{pid: pid, pidfd: pidfd, target: pidfd, since: time.Now(), exited: make(chan int, 1)}
	if from > 0 && from != pid {
		if err := d.underInit(from); err != nil {
			unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
			waitPidfd(pidfd, true)
			unix.Close(pidfd)
			return nil, err
		}
	}
	d.watch()
	return d, nil
}

// underInit records that the daemon is pid, the child of the PID 1 that
// daemonbox started: pid goes in the pidfile and gets the signals, and the
// daemon ends when PID 1 does, which is when pid does.
func (d *daemon) underInit(pid int) error {
	d.mainPID, d.pid1 = pid, true
	fd, err := unix.PidfdOpen(pid, 0)
	switch {
	case err == unix.ESRCH:
		return nil // it ended already; PID 1 reaped it and exits with its status
	case err != nil:
		return stepError("init", opError("pidfd_open", "the daemon "+strconv.Itoa(pid), err))
	}
	d.target = fd
	return nil
}

// watch sends the daemon's status to d.exited once it has exited, leaving
// it a zombie if it is the supervisor's child. A main process named by
// MAINPID= may be another's child, whose parent reaps it: its status is
// not the supervisor's to read, and counts as 0.
func (d *daemon) watch() {
	fd := d.pidfd
	go func() {
		awaitExit(fd)
		code, _ := waitPidfd(fd, false)
		d.exited <- code
	}()
}

// startInit starts the init stage: stdio in place, preserved fds at their
// own numbers, the socket after them, an empty environment, a new session,
// and the parent-death signal until the init stage sets it again after the
// uid change. fork+exec without os.File wrappers, whose finalizers would
// close fds the supervisor passes again at every restart.
func (s *supervisor) startInit(sock int) (pid, pidfd int, err error) {
	pidfd = -1
	sys := &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.Signal(s.plan.ParentDeath), PidFD: &pidfd}
	if s.plan.PIDNS {
		sys.Cloneflags |= unix.CLONE_NEWPID
	}
	if s.plan.UserNS {
		if err := enterUserNS(s.plan, sys); err != nil {
			return -1, -1, err
		}
	}
	if s.plan.Rootless {
		// Unprivileged, the supervisor writes the maps through the child's
		// /proc files, which are root's while the child is non-dumpable as
		// it is born. No process of the daemon's runs at this point.
		if err := setDumpable(true); err != nil {
			return -1, -1, err
		}
		defer setDumpable(false)
	}
	pid, err = forkInit(s.stdio, s.plan.Preserve, sys, sock)
	if err == nil && pidfd < 0 {
		err = errors.New("the kernel gave no pidfd for the init stage (Linux 5.3 or later is needed)")
	}
	return pid, pidfd, err
}

// enterUserNS has the clone create the user namespace (first, so that it
// owns the PID namespace made with it and every namespace the stage makes),
// with the plan's maps written before the stage runs. The stage starts as
// the daemon's uid and gid, so that what it creates is theirs, and keeps
// every capability it has in the namespace across its exec as ambient: a
// stage that is not uid 0 there would lose them.
func enterUserNS(p *Plan, sys *syscall.SysProcAttr) error {
	last, err := caps.LastCap()
	if err != nil {
		return err
	}
	bounding, err := caps.Bounding(last)
	if err != nil {
		return err
	}
	sys.Cloneflags |= unix.CLONE_NEWUSER
	sys.UidMappings, sys.GidMappings = idMaps(p.UIDMap), idMaps(p.GIDMap)
	sys.GidMappingsEnableSetgroups = !p.Rootless
	sys.Credential = &syscall.Credential{Uid: p.UID, Gid: p.GID, Groups: p.Groups, NoSetGroups: p.Rootless}
	sys.AmbientCaps = bounding.Numbers(last)
	return nil
}

func idMaps(maps []spec.IDMap) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(maps))
	for i, m := range maps {
		out[i] = syscall.SysProcIDMap{ContainerID: int(m.Inside), HostID: int(m.Outside), Size: int(m.Count)}
	}
	return out
}

// forkInit starts an init stage: childFiles' layout, with the first socket
// after the preserved fds and any other right after it, each socket's
// number in argv, and an empty environment.
func forkInit(stdio [3]int, preserve []int, sys *syscall.SysProcAttr, socks ...int) (int, error) {
	files, next := childFiles(stdio, preserve, socks[0])
	argv := []string{"daemonbox", InitArg, strconv.Itoa(next)}
	for i, sock := range socks[1:] {
		files = append(files, uintptr(sock))
		argv = append(argv, strconv.Itoa(next+1+i))
	}
	return syscall.ForkExec("/proc/self/exe", argv, &syscall.ProcAttr{Env: []string{}, Files: files, Sys: sys})
}

// childFiles lays out a child's fds: stdio (-1: the parent's own), each
// preserved fd at its own number, the socket after the last of them, and
// every fd between closed. It returns the socket's number in the child.
func childFiles(stdio [3]int, preserve []int, sock int) ([]uintptr, int) {
	next := 3
	if n := len(preserve); n > 0 {
		next = preserve[n-1] + 1
	}
	files := make([]uintptr, next+1)
	for i := range files {
		files[i] = ^uintptr(0) // closed in the child
	}
	for i, fd := range stdio {
		files[i] = uintptr(i)
		if fd >= 0 {
			files[i] = uintptr(fd)
		}
	}
	for _, fd := range preserve {
		files[fd] = uintptr(fd)
	}
	files[next] = uintptr(sock)
	return files, next
}

// childPlan is the plan as the init stage needs it: its stdio is already in
// place, and a notify daemon learns where to send READY=1.
func (s *supervisor) childPlan() *Plan {
	child := *s.plan
	child.Stdio = [3]spec.Stdio{{Kind: spec.StdioInherit}, {Kind: spec.StdioInherit}, {Kind: spec.StdioInherit}}
	if s.notify != nil {
		child.Env = append(append([]string(nil), child.Env...), s.notify.env())
	}
	return &child
}

// handshake sends the plan and reads the init stage's answer (see
// protocol.go); it returns the pid that sent "ready". A notify socket
// passed first goes to adopt.
func handshake(sock int, p *Plan, adopt func(fd int)) (int, error) {
	if err := send(sock, message{Kind: "plan", Plan: p}); err != nil {
		return 0, &StepError{Step: "init", Op: "send plan", Msg: err.Error()}
	}
	ready := 0
	for {
		m, pid, err := recvFrom(sock)
		switch {
		case err != nil:
			return 0, &StepError{Step: "init", Op: "read", Msg: err.Error()}
		case m == nil && ready > 0:
			return ready, nil
		case m == nil:
			return 0, errInitDied
		case m.Kind == "notify" && m.fd >= 0 && ready == 0:
			adopt(m.fd)
			continue
		}
		if m.fd >= 0 {
			unix.Close(m.fd)
		}
		switch {
		case m.Kind == "error" && m.Error != nil:
			return 0, m.Error
		case m.Kind == "ready" && ready == 0 && pid > 0:
			ready = pid
		default:
			return 0, &StepError{Step: "init", Msg: fmt.Sprintf("unexpected message %q", m.Kind)}
		}
	}
}

// adoptNotify takes the notify socket an init stage bound in the daemon's
// network namespace.
func (s *supervisor) adoptNotify(fd int) {
	if s.notify == nil {
		unix.Close(fd)
		return
	}
	s.notify.adopt(fd)
}

var errInitDied = errors.New("the init stage exited before the daemon started")

func describeStatus(status int, err error) string {
	switch {
	case err != nil:
		return err.Error()
	case status > ExitSignalShift:
		return "killed by " + spec.SignalName(status-ExitSignalShift)
	}
	return "exit status " + strconv.Itoa(status)
}

// run supervises a started daemon until it ends: SIGTERM and SIGINT become
// the spec's stop signal, with SIGKILL after stop_timeout; the other
// forwarded signals pass as they are. It returns the daemon's status, 128+n
// for signal n, and an error if it never became ready.
func (s *supervisor) run(d *daemon) (int, error) {
	var readyBy <-chan time.Time
	if s.notify == nil {
		s.ready(d)
	} else {
		t := time.NewTimer(s.plan.ReadyTimeout)
		defer t.Stop()
		readyBy = t.C
	}
	var kill <-chan time.Time
	for {
		select {
		case sig := <-s.sigs:
			if s.forward(d, sig) && kill == nil {
				kill = time.After(s.plan.StopTimeout)
			}
		case <-kill:
			unix.PidfdSendSignal(d.target, unix.SIGKILL, nil, 0)
		case <-readyBy:
			d.failure = &StepError{Step: "ready", Msg: fmt.Sprintf("no READY=1 within %v; the daemon was killed", s.plan.ReadyTimeout)}
			unix.PidfdSendSignal(d.pidfd, unix.SIGKILL, nil, 0)
		case n := <-s.notices():
			s.heard(d, n)
			if d.ready {
				readyBy = nil
			}
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

func (s *supervisor) notices() <-chan received {
	if s.notify == nil {
		return nil
	}
	return s.notify.in
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

// heard acts on a datagram: only the daemon's own are believed (and, once
// it named one, its main process's).
func (s *supervisor) heard(d *daemon, r received) {
	if r.pid != d.pid && r.pid != d.mainPID {
		return
	}
	n := r.n
	if n.status != "" {
		s.logf("%s: status: %s", s.plan.Name, n.status)
	}
	if n.mainPID > 0 && n.mainPID != d.pid && !d.pid1 {
		s.follow(d, n.mainPID) // in a PID namespace, the number would be the namespace's
	}
	if n.stopping {
		s.logf("%s: stopping", s.plan.Name)
	}
	if n.ready && !d.ready {
		s.ready(d)
	}
}

// handOver is called when the process daemonbox started has exited. If it
// named another with MAINPID= (a forking daemon), that one becomes the
// daemon: the first is reaped and the watch moves on; false means the
// daemon has ended.
func (s *supervisor) handOver(d *daemon) bool {
	s.syncNotices(d) // a MAINPID= sent just before the exit still counts
	if d.mainPID == 0 || d.pid1 {
		return false
	}
	waitPidfd(d.pidfd, true)
	unix.Close(d.pidfd)
	d.pid, d.pidfd, d.mainPID = d.mainPID, d.target, 0
	d.watch()
	return true
}

// syncNotices acts on every datagram that reached the notify socket before
// now. A datagram socket keeps its queue in order, so the supervisor sends
// itself a marker and reads up to it.
func (s *supervisor) syncNotices(d *daemon) {
	if s.notify == nil {
		return
	}
	mark := s.notify.mark()
	bound := time.NewTimer(time.Second)
	defer bound.Stop()
	for {
		select {
		case r := <-s.notify.in:
			if r.pid == os.Getpid() && r.n.mark == mark {
				return
			}
			s.heard(d, r)
		case <-bound.C:
			return
		}
	}
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
	s.tell(s.mainPID(d), nil)
	notifyManager(s.plan.Manager, "READY=1\nMAINPID="+strconv.Itoa(os.Getpid()))
}

func (s *supervisor) writePID(pid int) *StepError {
	if s.pidfile == nil {
		return nil
	}
	if err := s.pidfile.Write(pid); err != nil {
		return &StepError{Step: "pidfile", Msg: err.Error()}
	}
	return nil
}

// follow makes pid, named by MAINPID=, the process that the pidfile names
// and that signals go to; when the process daemonbox started exits, pid
// becomes the daemon (handOver). Only one of the daemon's own processes can
// be named: the pidfd is opened first and checked alive after the check of
// its ancestry, so the check was of that process and not of a reused pid.
func (s *supervisor) follow(d *daemon, pid int) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		s.logf("%s: MAINPID=%d: %v", s.plan.Name, pid, err)
		return
	}
	if !descends(pid) || unix.PidfdSendSignal(fd, 0, nil, 0) != nil {
		s.logf("%s: MAINPID=%d is not one of the daemon's processes; ignored", s.plan.Name, pid)
		unix.Close(fd)
		return
	}
	if d.target != d.pidfd {
		unix.Close(d.target)
	}
	d.target = fd
	d.mainPID = pid
	if d.ready {
		if err := s.writePID(pid); err != nil {
			s.logf("%v", err)
		}
	}
}

func (s *supervisor) mainPID(d *daemon) int {
	if d.mainPID > 0 {
		return d.mainPID
	}
	return d.pid
}

// end handles the daemon's exit. The pidfile is emptied (a restart follows)
// or removed before the daemon is reaped, so that as long as the file names
// a pid, that pid cannot be reused.
func (s *supervisor) end(d *daemon, code int) (int, error) {
	again := d.ready && !s.stopping && s.restart.again(code)
	if s.pidfile != nil {
		if again {
			s.pidfile.Clear()
		} else {
			s.pidfile.Remove()
			s.pidfile = nil
		}
	}
	waitPidfd(d.pidfd, true)
	s.ran = time.Since(d.since)
	if d.target != d.pidfd {
		unix.Close(d.target)
	}
	unix.Close(d.pidfd)
	if n := endLeftovers(syscall.Signal(s.plan.Stop), s.plan.StopTimeout); n > 0 {
		s.logf("%s: ended %d processes it left behind", s.plan.Name, n)
	}
	if d.ready {
		return code, nil
	}
	if d.failure == nil {
		d.failure = &StepError{Step: "ready", Msg: fmt.Sprintf("the daemon ended (%s) before it was ready", describeStatus(code, nil))}
	}
	return code, d.failure
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
		s.logf("reopen logs: %v", err)
	}
}

func (s *supervisor) tell(pid int, err error) {
	if s.started != nil {
		s.started(pid, err)
		s.started = nil
	}
}

// logf writes one of the supervisor's own lines: into the stderr log if
// there is one, else to its own stderr.
func (s *supervisor) logf(format string, args ...any) {
	line := fmt.Sprintf("daemonbox: "+format+"\n", args...)
	if !s.logs.printf("%s", line) {
		os.Stderr.WriteString(line)
	}
}

// cleanup releases everything setup took, the pidfile last but for logs,
// which may still carry the daemon's last lines.
func (s *supervisor) cleanup() {
	if s.notify != nil {
		s.notify.close()
	}
	if s.pidfile != nil {
		s.pidfile.Remove()
	}
	s.logs.close()
	for i, fd := range s.stdio {
		if fd >= 0 && (s.logs[i] == nil || s.logs[i].write != fd) {
			unix.Close(fd)
		}
	}
}
