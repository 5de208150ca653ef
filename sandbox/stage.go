package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/cgroup"
	"github.com/daemonbox/daemonbox/proctitle"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// An init stage is daemonbox re-executed to run the launch sequence in a
// new process: the parent's half of it is Spawn, the stage's is InitMain,
// and the protocol between them is in protocol.go.

// InitArg is argv[1] of an init stage, with its socket's fd number as
// argv[2]. The daemon's own stage under PID 1 has a second fd in argv[3]:
// the supervisor's socket, to answer on.
const InitArg = "__daemonbox_init"

// IsInit reports whether args are those of an init stage: daemonbox,
// InitArg, one or two fds, and room for its title (proctitle.Room).
func IsInit(args []string) bool { return len(args) >= 3 && len(args) <= 5 && args[1] == InitArg }

// withoutRoom drops the title's room from a stage's argv.
func withoutRoom(args []string) []string {
	if n := len(args); n > 3 && args[n-1] == proctitle.Room {
		return args[:n-1]
	}
	return args
}

// InitMain is the init stage: it receives its launch, runs the sequence and
// execs the daemon. It returns only on failure, after telling the
// supervisor. Like ExecInPlace, it must be called from an init function.
func InitMain(args []string) int {
	args = withoutRoom(args)
	closed := CloseInherited(upTo(lastFD(args)))
	sock, err := strconv.Atoi(args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "daemonbox: the init stage is started by daemonbox run, not by hand")
		return ExitFailure
	}
	unix.CloseOnExec(sock)
	l, resume, err := awaitLaunch(sock)
	if err != nil {
		return ExitFailure
	}
	if len(args) == 4 { // the daemon's stage under PID 1 answers the supervisor
		unix.Close(sock)
		if sock, _ = strconv.Atoi(args[3]); sock < 3 {
			return ExitFailure
		}
		unix.CloseOnExec(sock)
	}
	setTitle(l.Title, "init")
	if closed != nil {
		sendError(sock, AtStep("fds", closed))
		return ExitFailure
	}
	st := &launch{
		plan: l, stdio: [3]int{-1, -1, -1}, sock: sock, newRoot: -1, resumed: resume,
		supervised: true, parent: os.Getppid(),
		ready: func() error { return sendReady(sock) },
	}
	if l.PID1Forks && l.PIDNS && l.Init && !resume {
		return st.forkingPID1()
	}
	sendError(sock, st.run())
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

// Stage is an init stage that has exec'd the daemon, or is PID 1 of the
// daemon's PID namespace.
type Stage struct {
	PID    int // the process Spawn started
	Pidfd  int
	Daemon int // the pid that said ready: PID's, or its child's under a PID 1 of daemonbox's
}

// Hooks are what the supervisor hands a launch, on either path.
type Hooks struct {
	// Adopt takes a notify socket bound in the daemon's network namespace.
	Adopt func(fd int)
	// Caught is closed once the supervisor catches the signals it
	// forwards. Neither PID 1 nor the daemon is started before: from then
	// on a signal meant for the daemon must reach it, and none may end
	// the supervisor and leave them. Until then the supervisor may die of
	// one, as of SIGKILL, having started nothing.
	Caught <-chan struct{}
}

// waitCaught blocks until the supervisor catches its signals.
func (h Hooks) waitCaught() {
	if h.Caught != nil {
		<-h.Caught
	}
}

// Spawn is the parent's half of a launch through an init stage, beside the
// stage's sequence (steps.go), in order: a socketpair for the stage to
// answer on; the clone's settings (a new session, the parent-death signal, a
// PID namespace, a user namespace with its maps); fork and exec of
// /proc/self/exe with stdio, the listen sockets, the preserved fds and the
// socket in place; the
// launch sent, once the supervisor catches signals; then "ready", or the
// error of the step that failed. A notify socket the stage binds in the
// daemon's network namespace goes to h.Adopt.
// The stage is in cg (if not nil) before it runs a step, so that all it
// forks is too: cloned into it on v2, moved there before its launch is
// sent on v1.
func Spawn(l *Launch, stdio [3]int, listen []int, cg *cgroup.Group, h Hooks) (*Stage, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, AtStep("init", OpError("socketpair", "", err))
	}
	defer unix.Close(pair[0])
	if err := unix.SetsockoptInt(pair[0], unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
		unix.Close(pair[1])
		return nil, AtStep("init", OpError("setsockopt SO_PASSCRED", "", err))
	}
	pid, pidfd, err := startStage(l, stdio, listen, pair[1], cg)
	unix.Close(pair[1])
	if err != nil {
		return nil, &StepError{Step: "init", Op: "start", Path: "/proc/self/exe", Msg: err.Error()}
	}
	err = placeStage(pid, cg)
	if err == nil {
		err = stageOOMScore(pid, l)
	}
	if err != nil {
		unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
		return nil, failedStage(pidfd, err)
	}
	h.waitCaught() // the stage starts meanwhile
	if err := sendLaunch(pair[0], kindLaunch, l); err != nil {
		unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
		return nil, failedStage(pidfd, &StepError{Step: "init", Op: "send launch", Msg: err.Error()})
	}
	daemon, err := awaitReady(pair[0], h.Adopt, stageAnswerBound)
	if err == errNoAnswer {
		unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
		err = &StepError{Step: "init", Msg: fmt.Sprintf("the init stage did not answer within %v (stopped by a signal?); it was killed", stageAnswerBound)}
	}
	if err != nil {
		return nil, failedStage(pidfd, err)
	}
	return &Stage{PID: pid, Pidfd: pidfd, Daemon: daemon}, nil
}

// failedStage reaps a stage that failed, which exits once it has said why,
// and returns why: err, or, if it died without a word, how it died.
func failedStage(pidfd int, err error) error {
	status, werr := WaitPidfd(pidfd, true)
	unix.Close(pidfd)
	if errors.Is(err, ErrClosed) {
		return &StepError{Step: "init", Msg: fmt.Sprintf("the init stage exited before the daemon started (%s)", DescribeStatus(status, werr))}
	}
	return err
}

// startStage forks the init stage with the clone settings l asks for. The
// parent-death signal holds until the stage sets it again after the uid
// change.
func startStage(l *Launch, stdio [3]int, listen []int, sock int, cg *cgroup.Group) (pid, pidfd int, err error) {
	pidfd = -1
	sys := &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.Signal(l.ParentDeath), PidFD: &pidfd}
	if cg != nil && cg.V2() {
		dir, err := cg.OpenDir()
		if err != nil {
			return -1, -1, err
		}
		defer unix.Close(dir)
		sys.UseCgroupFD, sys.CgroupFD = true, dir
	}
	if l.PIDNS {
		sys.Cloneflags |= unix.CLONE_NEWPID
	}
	if l.UserNS {
		if err := enterUserNS(l, sys); err != nil {
			return -1, -1, err
		}
	}
	if l.Rootless {
		// Unprivileged, the parent writes the maps through the child's
		// /proc files, which are root's while the child is non-dumpable as
		// it is born. No process of the daemon's runs at this point.
		if err := SetDumpable(true); err != nil {
			return -1, -1, err
		}
		defer SetDumpable(false)
	}
	pid, err = forkStage(stdio, listen, l.Preserve, sys, sock)
	if err == nil && pidfd < 0 {
		err = errors.New("the kernel gave no pidfd for the init stage (Linux 5.3 or later is needed)")
	}
	return pid, pidfd, err
}

// placeStage moves the stage into cg on v1, where clone cannot place it;
// the stage waits for its launch, so it has run no step yet.
func placeStage(pid int, cg *cgroup.Group) error {
	if cg == nil || cg.V2() {
		return nil
	}
	if err := cg.Place(pid); err != nil {
		return &StepError{Step: "cgroup", Msg: err.Error()}
	}
	return nil
}

// stageOOMScore sets a stage's oom_score_adj from outside when it runs in a
// user namespace: there its /proc/self is the host's root's once it is
// non-dumpable (its first step), and the stage, privileged only in its
// namespace, cannot write it. The daemon inherits the value.
func stageOOMScore(pid int, l *Launch) error {
	if !l.UserNS || l.OOMScoreAdj == nil {
		return nil
	}
	file := "/proc/" + strconv.Itoa(pid) + "/oom_score_adj"
	if err := os.WriteFile(file, []byte(strconv.Itoa(*l.OOMScoreAdj)), 0); err != nil {
		return AtStep("oom-score-adj", OpError("write", file, err))
	}
	return nil
}

// enterUserNS has the clone create the user namespace (first, so that it
// owns the PID namespace made with it and every namespace the stage makes),
// with the maps written before the stage runs. The stage starts as the
// daemon's uid and gid, so that what it creates is theirs, and keeps every
// capability it has in the namespace across its exec as ambient: a stage
// that is not uid 0 there would lose them.
func enterUserNS(l *Launch, sys *syscall.SysProcAttr) error {
	last, err := caps.LastCap()
	if err != nil {
		return err
	}
	bounding, err := caps.Bounding(last)
	if err != nil {
		return err
	}
	sys.Cloneflags |= unix.CLONE_NEWUSER
	sys.UidMappings, sys.GidMappings = idMaps(l.UIDMap), idMaps(l.GIDMap)
	sys.GidMappingsEnableSetgroups = !l.Rootless
	sys.Credential = &syscall.Credential{Uid: l.UID, Gid: l.GID, Groups: l.Groups, NoSetGroups: l.Rootless}
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

// forkStage starts an init stage: ChildFiles' layout, with the first socket
// after the listen and preserved fds and any other right after it, each
// socket's number in argv, and an empty environment. fork+exec without
// os.File wrappers, whose finalizers would close fds a supervisor passes
// again at every restart.
func forkStage(stdio [3]int, listen, preserve []int, sys *syscall.SysProcAttr, socks ...int) (int, error) {
	files, next := ChildFiles(stdio, listen, preserve, socks[0])
	argv := []string{"daemonbox", InitArg, strconv.Itoa(next)}
	for i, sock := range socks[1:] {
		files = append(files, uintptr(sock))
		argv = append(argv, strconv.Itoa(next+1+i))
	}
	argv = append(argv, proctitle.Room)
	return syscall.ForkExec("/proc/self/exe", argv, &syscall.ProcAttr{Env: []string{}, Files: files, Sys: sys})
}

// setTitle shows the stage in ps as "daemonbox: NAME ROLE".
func setTitle(name, role string) {
	proctitle.Set("daemonbox: "+name+" "+role, proctitle.Comm(name))
}

// ChildFiles lays out a child's fds: stdio (-1: the parent's own), the
// listen sockets at 3 onward, each preserved fd at its own number (above
// them: the spec sees to it), the socket after the last of them, and every
// fd between closed. It returns the socket's number in the child.
func ChildFiles(stdio [3]int, listen, preserve []int, sock int) ([]uintptr, int) {
	next := 3 + len(listen)
	if n := len(preserve); n > 0 {
		next = max(next, preserve[n-1]+1)
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
	for i, fd := range listen {
		files[3+i] = uintptr(fd)
	}
	for _, fd := range preserve {
		files[fd] = uintptr(fd)
	}
	files[next] = uintptr(sock)
	return files, next
}

// stageAnswerBound is how long the supervisor waits for the stage's
// answers. Its steps take milliseconds; a stage that takes a minute was
// stopped (a host process of the daemon's uid may send it SIGSTOP once it
// has taken that uid, before its exec) or is stuck, and a start must not
// wait for it for ever.
const stageAnswerBound = time.Minute

// errNoAnswer: the stage said nothing within the bound (awaitReady).
var errNoAnswer = errors.New("no answer")

// waitReadable waits until sock has a message or its EOF, or until the
// deadline: errNoAnswer. A signal does not put the deadline off, as it
// would a socket's receive timeout (each SIGCHLD of a stage stopped and
// continued would start that again).
func waitReadable(sock int, deadline time.Time) error {
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return errNoAnswer
		}
		fds := []unix.PollFd{{Fd: int32(sock), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(left.Milliseconds())+1)
		switch {
		case err == unix.EINTR || err == nil && n == 0:
			continue
		case err != nil:
			return &StepError{Step: "init", Op: "poll", Msg: err.Error()}
		}
		return nil
	}
}

// awaitReady reads the stage's answers until the EOF of its exec, and
// returns the pid that sent "ready". A notify socket passed first goes to
// adopt. All must come within bound.
func awaitReady(sock int, adopt func(fd int), bound time.Duration) (int, error) {
	deadline := time.Now().Add(bound)
	ready := 0
	for {
		if err := waitReadable(sock, deadline); err != nil {
			return 0, err
		}
		m, pid, err := recvFrom(sock)
		switch {
		case err == ErrClosed && ready > 0:
			return ready, nil
		case err == ErrClosed:
			return 0, err
		case err != nil:
			return 0, &StepError{Step: "init", Op: "read", Msg: err.Error()}
		case m.kind == kindNotify && m.fd >= 0 && ready == 0:
			adopt(m.fd)
			continue
		case m.kind == kindError:
			return 0, m.err
		case m.kind == kindReady && ready == 0 && pid > 0:
			ready = pid
			continue
		}
		return 0, &StepError{Step: "init", Msg: expect(m, kindReady, kindError).Error()}
	}
}

// DescribeStatus says how a process ended, from the status WaitPidfd gave.
func DescribeStatus(status int, err error) string {
	switch {
	case err != nil:
		return err.Error()
	case status > ExitSignalShift:
		return "killed by " + spec.SignalName(status-ExitSignalShift)
	}
	return "exit status " + strconv.Itoa(status)
}

// pid1 runs when daemonbox is PID 1 of a new PID namespace and the daemon
// is to be its child (namespaces.init, the default). What is namespace-wide
// is done (mounts, root, hostname): the daemon's own stage, a new daemonbox
// process, resumes the sequence after this step, and this one stays as the
// namespace's init. It returns only on failure.
func (l *launch) pid1() error {
	if !l.plan.Init || l.resumed {
		return nil
	}
	setTitle(l.plan.Title, "pid1")
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return OpError("socketpair", "", err)
	}
	// The daemon's stage reads its launch from this stage, and answers the
	// supervisor itself, on this stage's socket: its "ready" carries its
	// own pid, and its exec closes the socket.
	sigs := make(chan os.Signal, 16) // before the fork: no SIGCHLD may be missed
	signal.Notify(sigs, initCaught()...)
	pid, err := forkStage([3]int{-1, -1, -1}, listenFDs(len(l.plan.Listen)), l.plan.Preserve,
		&syscall.SysProcAttr{Setsid: true, Pdeathsig: unix.SIGKILL}, pair[1], l.sock)
	unix.Close(pair[1])
	if err != nil {
		unix.Close(pair[0])
		return OpError("fork", "the daemon's stage", err)
	}
	err = sendLaunch(pair[0], kindResume, l.plan)
	unix.Close(pair[0])
	unix.Close(l.sock)
	if err != nil {
		unix.Kill(pid, unix.SIGKILL)
	}
	// PID 1 keeps nothing the daemon could take from it with pidfd_getfd:
	// the status file is the host's /proc, opened before the pivot, and
	// the listen sockets and preserved fds are the daemon's now.
	unix.Close(l.status)
	CloseInherited(func(int) bool { return false })
	os.Exit(reapAsInit(pid, sigs))
	return nil
}

// initForwarded are the signals PID 1 passes on to the daemon: the kernel
// sends PID 1 only the signals it handles, so these must be caught here.
var initForwarded = []os.Signal{unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1,
	unix.SIGUSR2, unix.SIGALRM, unix.SIGCONT, unix.SIGWINCH, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU}

// initCaught are the signals PID 1 catches: SIGCHLD, those it forwards,
// and every other one that the Go runtime would die of when sent by kill
// (SIGABRT, SIGSYS, ...). The daemon can send those to PID 1 when it runs
// as the same uid, as it does rootless; caught, they are dropped.
func initCaught() []os.Signal {
	var out []os.Signal
	for sig := syscall.Signal(1); sig < 32; sig++ {
		if sig != unix.SIGKILL && sig != unix.SIGSTOP && sig != unix.SIGURG { // SIGURG: the runtime's own
			out = append(out, sig)
		}
	}
	return out
}

// reapAsInit is PID 1's whole life: forward signals to the daemon, reap
// every process that ends up its child, and exit with the daemon's status
// once it ends, which ends the namespace and everything left in it.
func reapAsInit(daemon int, sigs chan os.Signal) int {
	for sig := range sigs {
		if sig != unix.SIGCHLD {
			if slices.Contains(initForwarded, sig) {
				unix.Kill(daemon, sig.(syscall.Signal))
			}
			continue
		}
		for {
			pid, status, err := WaitAny(true)
			if err != nil || pid == 0 {
				break
			}
			if pid == daemon {
				return status
			}
		}
	}
	return ExitFailure
}
