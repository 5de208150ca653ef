package sandbox

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"syscall"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/cgroup"
	"golang.org/x/sys/unix"
)

// oneImage is the one-image launch's state on its thread.
type oneImage struct {
	listen   []int           // the supervisor's listen sockets, placed at 3 onward in the daemon
	cg       *cgroup.Group   // the daemon's; nil without one
	caught   <-chan struct{} // Hooks.Caught: PID 1 is forked once it is closed
	cgroupFD int             // v2: the group's directory, for CLONE_INTO_CGROUP; else -1
	tid      int             // the launch thread: on v1 it is in the group until the daemon is forked
	pidns    int             // PID 1's PID namespace, for /proc; -1 until PID 1 runs
	pid1     int             // PID 1's pidfd; -1 until it runs
	notify   int             // the notify socket bound in the daemon's network namespace, or -1
	daemon   int             // the daemon's pid, once forked
}

// oneImageSequence is `sequence` as the supervisor's own threads run it,
// in two parts. The launch thread makes the sandbox: three steps move up,
// bounding and no-new-privs before pid1, so that PID 1 inherits them, and
// pid1 before mounts and root, since /proc shows PID 1's namespace and the
// pivot moves PID 1's root and cwd into the sandbox. The launch thread
// stays as it is then, root and parked, for PID 1's life: PID 1's
// parent-death signal is tied to it. A thread that took the daemon's uid
// could be sent SIGSTOP or SIGKILL with tgkill by any host process of that
// uid (another daemon's, say) and stop or end the whole supervisor, so the
// daemon's credentials go on a second thread (daemonThreadSequence), which
// joins the sandbox, forks the daemon and ends. The steps oneImageLeftOut
// names do not run, for the reason it gives. Every other step is the
// staged path's own.
var oneImageSequence = []step{
	{"nondumpable", (*launch).nondumpable, false}, // the supervisor is already, since its setup; kept so that no launch relies on it
	{"status", (*launch).readStart, false},        // this thread's own status file
	{"cgroup", (*launch).joinCgroup, false},       // before PID 1 is forked, which inherits this thread's group on v1
	{"namespaces", (*launch).unshareThread, false},
	{"hostname", (*launch).hostname, false},
	{"loopback", (*launch).loopback, false},
	{"notify", (*launch).notifySocket, false},
	{"bounding", (*launch).bounding, false},       // per thread, and PID 1 inherits it
	{"no-new-privs", (*launch).noNewPrivs, false}, // per thread, and PID 1 inherits it
	{"pid1", (*launch).startPID1, false},          // catatonit -P from the host's path, then setns into its PID namespace
	{"mounts", (*launch).mounts, false},           // /proc with PID 1's namespace (fsconfig pidns)
	{"root", (*launch).root, false},               // pivot_root also moves PID 1's root and cwd, which are the old root
}

// daemonThreadSequence runs on a second, fresh thread (Go makes it from
// its template thread, so it starts with the host's namespaces and root's
// credentials): it joins what the launch thread made, takes the daemon's
// state and forks the daemon.
var daemonThreadSequence = []step{
	{"status", (*launch).readStart, false},                // its own status file, from the host's /proc, before it leaves the host's mounts
	{"cgroup", (*launch).placeDaemonThread, false},        // v1: the daemon is forked from this thread, and inherits its group
	{"namespaces", (*launch).joinSandbox, false},          // setns into the launch thread's namespaces, then PID 1's
	{"bounding", (*launch).bounding, false},               // per thread: this one starts with the full set
	{"no-new-privs", (*launch).noNewPrivs, false},         // per thread
	{"rlimits", (*launch).rlimits, false},                 // per process: only core is eligible (OneImageBlocker)
	{"umask", (*launch).umask, false},                     // per thread: the fs struct is unshared
	{"fds", (*launch).fdsCloseOnExec, false},              // the layout itself is the fork's (ChildFiles)
	{"keep-caps", threadCreds((*launch).keepCaps), false}, // on this thread only for a root daemon (childCreds)
	{"groups", threadCreds((*launch).groups), false},      //
	{"gid", threadCreds((*launch).gid), false},            //
	{"uid", threadCreds((*launch).uid), false},            //
	{"capabilities", (*launch).threadCaps, false},         // or only the inheritable set, for the child's ambient raise
	{"signals", (*launch).signals, false},                 // the thread's mask; dispositions are already the plan's (none ignored)
	{"cwd", (*launch).cwd, false},                         // per thread: the fork's child inherits it
	{"verify", (*launch).verify, false},                   //
	{"listen", (*launch).listenEnv, false},                //
	{"landlock", (*launch).landlock, false},               // landlock_restrict_self acts on the calling thread
	{"seccomp", (*launch).seccomp, false},                 // per thread, no TSYNC; the calls made after it are checked (filterBlocker)
	{"exec", (*launch).forkDaemon, false},                 //
}

// oneImageLeftOut are the staged steps the one-image path does not run.
var oneImageLeftOut = map[string]string{
	"session":       "setsid would move the supervisor; the daemon's fork makes its session (SysProcAttr.Setsid)",
	"oom-score-adj": "per process: a plan that sets it takes the staged path",
	"parent-death":  "per task and cleared by fork; PID 1 has SIGKILL as its parent-death signal, tied to this thread, and its death ends the namespace",
	"ready":         "no stage: the supervisor learns the outcome from the thread",
}

// OneImage is a daemon the supervisor launched itself: its own child, in a
// PID namespace whose PID 1 the thread that launched it holds.
type OneImage struct {
	PID, Pidfd int // the daemon
	pid1       int // PID 1's pidfd
	release    chan struct{}
	gone       chan struct{}
}

type oneImageResult struct {
	pid, pid1, notify, tid int
	err                    error
}

// LaunchOne launches l on a thread of the supervisor's own. A notify
// socket bound in the daemon's network namespace goes to h.Adopt. After a
// failure nothing is left: PID 1 is killed and reaped, and the thread,
// with its namespaces and mounts, is gone.
func LaunchOne(l *Launch, stdio [3]int, listen []int, cg *cgroup.Group, h Hooks) (*OneImage, error) {
	o := &OneImage{release: make(chan struct{}), gone: make(chan struct{})}
	// restoreIgnored puts back jobStops alone: three queries, not 64.
	ignored, err := ignoredOf(slices.Values(jobStopSignals))
	if err != nil {
		return nil, AtStep("signals", OpError("rt_sigaction", "SIGTSTP, SIGTTIN and SIGTTOU", err))
	}
	res := make(chan oneImageResult, 1)
	go func() {
		defer close(o.gone)
		onOwnThread(func() { o.thread(l, stdio, listen, cg, h.Caught, res) })
	}()
	r := <-res
	o.pid1 = r.pid1
	if err := returnThread(cg, r.tid); err != nil && r.err == nil {
		r.err = err
	}
	if err := restoreIgnored(ignored); err != nil && r.err == nil {
		r.err = AtStep("signals", err)
	}
	if r.notify >= 0 {
		h.Adopt(r.notify)
	}
	if r.err != nil {
		o.End()
		return nil, r.err
	}
	o.PID = r.pid
	if err := o.settle(l, r); err != nil {
		unix.Kill(r.pid, unix.SIGKILL)
		unix.Wait4(r.pid, nil, 0, nil)
		o.End()
		return nil, err
	}
	return o, nil
}

// settle is the rest of the launch, from here, not from the launch thread,
// whose filter may refuse these calls and whose /proc is the daemon's: the
// daemon's pidfd (it stays a zombie until reaped, so its pid is still its
// own), and the checks of checkDaemon.
func (o *OneImage) settle(l *Launch, r oneImageResult) error {
	if len(l.Listen) > 0 || l.UID != 0 {
		if err := checkDaemon(l, r.pid); err != nil {
			return err
		}
	}
	fd, err := unix.PidfdOpen(r.pid, 0)
	if err != nil {
		return AtStep("exec", OpError("pidfd_open", strconv.Itoa(r.pid), err))
	}
	o.Pidfd = fd
	return nil
}

// returnThread takes the launch thread, parked now, out of a v1 group
// before anything else happens: while it is there, the supervisor's pid is
// in the group's cgroup.procs, and ending the group (a failed start, a
// stop) would freeze and kill the supervisor.
func returnThread(cg *cgroup.Group, tid int) *StepError {
	if cg == nil || cg.V2() {
		return nil
	}
	if err := cg.ReturnThread(tid); err != nil {
		return &StepError{Step: "cgroup", Msg: err.Error()}
	}
	return nil
}

// End kills and reaps PID 1, which ends the namespace and what is left in
// it, then lets the launch thread end. The daemon must be reaped first.
func (o *OneImage) End() {
	if o.pid1 >= 0 {
		unix.PidfdSendSignal(o.pid1, unix.SIGKILL, nil, 0)
		WaitPidfd(o.pid1, true) // ECHILD if the supervisor's reaper took it: it is gone either way
		unix.Close(o.pid1)
		o.pid1 = -1
	}
	close(o.release)
	<-o.gone
}

// onOwnThread runs f locked to an OS thread that ends when f returns. The
// process's first thread is never ended by Go (it is wedged instead, with
// its namespaces), so from there f runs on a new goroutine, which cannot
// be put on the first thread while this one holds it.
func onOwnThread(f func()) {
	runtime.LockOSThread()
	if unix.Gettid() != unix.Getpid() {
		f()
		return // still locked: the thread exits
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		onOwnThread(f)
	}()
	<-done
	runtime.UnlockOSThread() // this thread's state was not touched
}

// thread is the launch thread's life: the sequence, the outcome sent, and
// then a wait until End, since PID 1's parent-death signal is tied to this
// thread. End, not this thread, kills PID 1 after a failure: the filter may
// be on here.
func (o *OneImage) thread(p *Launch, stdio [3]int, listen []int, cg *cgroup.Group, caught <-chan struct{}, res chan<- oneImageResult) {
	one := &oneImage{listen: listen, cg: cg, caught: caught, cgroupFD: -1, tid: unix.Gettid(), pidns: -1, pid1: -1, notify: -1}
	l := &launch{plan: p, stdio: stdio, sock: -1, newRoot: -1, status: -1, one: one}
	send := func(err *StepError) {
		r := oneImageResult{pid: one.daemon, pid1: one.pid1, notify: one.notify, tid: one.tid}
		if err != nil {
			r.err = err
		}
		res <- r
	}
	if err := runSteps(l, oneImageSequence); err != nil {
		send(err)
	} else {
		l.onDaemonThread(send)
	}
	l.closeLaunchFDs()
	<-o.release
}

func runSteps(l *launch, steps []step) *StepError {
	for _, s := range steps {
		if err := s.run(l); err != nil {
			return AtStep(s.name, err)
		}
	}
	return nil
}

// onDaemonThread runs daemonThreadSequence on a fresh thread, which ends
// with it, and waits for it. It shares the launch's plan and one-image
// state (the daemon's pid comes back there), with a status file of its own.
// The daemon thread sends the outcome to the supervisor itself: through
// this thread, parked and locked, it took one more wake-up of a sleeping
// thread, 0.1 to 2 ms here.
func (l *launch) onDaemonThread(send func(*StepError)) {
	d := *l
	d.status, d.statusBuf, d.launchTID = -1, nil, unix.Gettid()
	done := make(chan struct{})
	go onOwnThread(func() {
		err := runSteps(&d, daemonThreadSequence)
		if d.status >= 0 {
			unix.Close(d.status)
		}
		send(err)
		close(done)
	})
	<-done // the launch's fds stay open until the daemon thread is done with them
}

// childCreds: the daemon is not root, so this thread, a thread of the
// root supervisor, must not take its uid even for the moment before the
// fork: any host process of that uid could tgkill it with SIGSTOP or
// SIGKILL, which stops or ends the whole supervisor (found by hammering
// new tids across launches). So the thread stays root, and Go's fork child
// makes the change: setgroups, setgid and setuid (SysProcAttr.Credential),
// then the ambient set (AmbientCaps). settle checks the daemon's
// credentials from its /proc status, since this thread cannot.
func (l *launch) childCreds() bool {
	return l.one != nil && l.launchTID != 0 && l.plan.UID != 0
}

// threadCreds runs a credential step on this thread unless the fork's
// child makes the change (childCreds).
func threadCreds(f func(*launch) error) func(*launch) error {
	return func(l *launch) error {
		if l.childCreds() {
			return nil
		}
		return f(l)
	}
}

// threadCaps is the capabilities step; with childCreds only the
// inheritable set is the daemon's already (0, or the ambient set), and the
// thread keeps root's permitted and effective sets for the child's setuid.
func (l *launch) threadCaps() error {
	if l.childCreds() {
		return caps.SetInheritable(l.plan.Caps.Sets().Inheritable)
	}
	return l.capabilities()
}

// placeDaemonThread puts this thread in the daemon's v1 group, which the
// daemon's fork inherits; the thread ends after the fork, so it is never
// taken out again. v2 forks into the group (CLONE_INTO_CGROUP).
func (l *launch) placeDaemonThread() error {
	if cg := l.one.cg; cg != nil && !cg.V2() {
		return cg.PlaceThread(unix.Gettid())
	}
	return nil
}

// sandboxNamespaces are those the launch thread may have unshared, mount
// last: once this thread is in it, /proc is the sandbox's.
var sandboxNamespaces = []struct {
	flag uintptr
	name string
}{{unix.CLONE_NEWNET, "net"}, {unix.CLONE_NEWIPC, "ipc"}, {unix.CLONE_NEWUTS, "uts"},
	{unix.CLONE_NEWCGROUP, "cgroup"}, {unix.CLONE_NEWNS, "mnt"}}

// joinSandbox moves this thread into the launch thread's namespaces, with
// its root and cwd (setns of a mount namespace sets both to its root, the
// pivoted one), then makes its children PID 1's.
func (l *launch) joinSandbox() error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return OpError("unshare", "fs", err)
	}
	dir := "/proc/self/task/" + strconv.Itoa(l.launchTID) + "/ns/"
	for _, ns := range sandboxNamespaces {
		if l.plan.Unshare&ns.flag == 0 {
			continue
		}
		if err := setnsFile(dir+ns.name, int(ns.flag)); err != nil {
			return err
		}
	}
	if err := unix.Setns(l.one.pidns, unix.CLONE_NEWPID); err != nil {
		return OpError("setns", "PID 1's pid namespace", err)
	}
	return nil
}

func setnsFile(file string, flag int) error {
	fd, err := unix.Open(file, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return OpError("open", file, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, flag); err != nil {
		return OpError("setns", file, err)
	}
	return nil
}

// closeLaunchFDs closes what the sequence opened in the supervisor's fd
// table; PID 1's pidfd stays, for End.
func (l *launch) closeLaunchFDs() {
	for _, fd := range []*int{&l.status, &l.newRoot, &l.one.pidns, &l.one.cgroupFD} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}

// joinCgroup puts the daemon's processes in its group as they are
// forked: on v1 this thread joins the group (and leaves it again in
// settle); on v2 both forks use CLONE_INTO_CGROUP.
func (l *launch) joinCgroup() error {
	cg := l.one.cg
	if cg == nil {
		return nil
	}
	if cg.V2() {
		fd, err := cg.OpenDir()
		l.one.cgroupFD = fd
		return err
	}
	return cg.PlaceThread(l.one.tid)
}

// unshareThread is the namespaces step with CLONE_FS: the root, cwd and
// umask then belong to this thread alone, not to the supervisor.
func (l *launch) unshareThread() error {
	flags := l.plan.Unshare | unix.CLONE_FS
	if err := unix.Unshare(int(flags)); err != nil {
		return OpError("unshare", "fs,"+NamespaceNames(l.plan.Unshare), err)
	}
	return nil
}

// fdsCloseOnExec leaves the fd layout to the fork (ChildFiles), and makes
// sure no other fd of the supervisor's reaches the daemon: everything Go
// opens is close-on-exec already, so this is for what it inherited.
func (l *launch) fdsCloseOnExec() error { return closeOnExec(3, ^uint(0)) }

// pid1Credential is PID 1's uid and gid: one the daemon does not have, so
// that the daemon cannot signal or ptrace it (and so cannot reach its
// memory, fds, environment or executable; P08): root, with the bounding
// set already the daemon's, or nobody when the daemon is root. Not nobody
// for every other daemon: any host process running as nobody could then
// end PID 1, and with it the daemon's namespace.
func pid1Credential(p *Launch) *syscall.Credential {
	const nobody = 65534
	if p.UID == 0 {
		return &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}}
	}
	return &syscall.Credential{Uid: 0, Gid: 0, Groups: []uint32{}}
}

// startPID1 forks catatonit in pause mode into a new PID namespace, from
// the host's path and with "/" as its cwd, before the pivot moves both
// into the sandbox; then this thread enters that namespace, so that its
// next child, the daemon, is PID 2. Go's fork child checks Pdeathsig by
// comparing getppid() with the parent's pid; in the new namespace
// getppid() is 0, and the SIGKILL it then sends itself is one PID 1 does
// not receive from inside its own namespace.
func (l *launch) startPID1() error {
	// Not before the supervisor catches its signals: one that ended it
	// later would leave a PID 1 with no parent-death signal (parent_death
	// = "none") running.
	Hooks{Caught: l.one.caught}.waitCaught()
	prog, argv := initProgram(l.plan), l.plan.InitArgv
	if prog == "" || len(argv) == 0 {
		return &StepError{Msg: "no PID 1 program in the plan"}
	}
	null, err := unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return OpError("open", "/dev/null", err)
	}
	defer unix.Close(null)
	pidfd := -1
	sys := &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWPID, Setsid: true, Credential: pid1Credential(l.plan), PidFD: &pidfd}
	if l.plan.ParentDeath != 0 {
		sys.Pdeathsig = unix.SIGKILL
	}
	if l.one.cgroupFD >= 0 {
		sys.UseCgroupFD, sys.CgroupFD = true, l.one.cgroupFD
	}
	f := uintptr(null)
	pid, err := syscall.ForkExec(prog, argv,
		&syscall.ProcAttr{Dir: "/", Env: []string{}, Files: []uintptr{f, f, f}, Sys: sys})
	if err != nil {
		return OpError("fork", prog, err)
	}
	if pidfd < 0 {
		unix.Kill(pid, unix.SIGKILL)
		unix.Wait4(pid, nil, 0, nil)
		return &StepError{Op: "fork", Path: prog, Msg: "the kernel gave no pidfd"}
	}
	l.one.pid1 = pidfd
	return l.enterPID1(pid)
}

// enterPID1 opens PID 1's namespace (its pid cannot be reused: it is this
// process's unreaped child) and moves this thread's children into it.
func (l *launch) enterPID1(pid int) error {
	file := "/proc/" + strconv.Itoa(pid) + "/ns/pid"
	ns, err := unix.Open(file, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return OpError("open", file, err)
	}
	l.one.pidns = ns
	if err := unix.Setns(ns, unix.CLONE_NEWPID); err != nil {
		return OpError("setns", file, err)
	}
	return nil
}

// forkDaemon is the exec step: the daemon forked from this thread, with
// its namespaces, root, cwd, umask, capabilities and filters (and, for a
// daemon that is not root, the credentials the child takes: childCreds).
// No Pdeathsig: after a thread's setns Go's child sees getppid() == 0 and
// would kill itself. The supervisor opens the pidfd (forkExecDaemon).
func (l *launch) forkDaemon() error {
	sys := &syscall.SysProcAttr{}
	if l.childCreds() {
		p := l.plan
		sys.Credential = &syscall.Credential{Uid: p.UID, Gid: p.GID, Groups: slices.Clone(p.Groups)}
		if p.Caps.Ambient {
			last, err := caps.LastCap()
			if err != nil {
				return err
			}
			sys.AmbientCaps = p.Caps.Keep.Numbers(last)
		}
	}
	if l.one.cgroupFD >= 0 {
		sys.UseCgroupFD, sys.CgroupFD = true, l.one.cgroupFD
	}
	pid, err := l.forkExecDaemon(l.one.listen, sys)
	l.one.daemon = pid
	return err
}

// forkExecDaemon forks and execs the daemon from this thread, the exec
// step of both shapes that fork it (one image, and PID 1 of two): in a
// session of its own, with a stage's fd layout (ChildFiles) and the listen
// sockets at 3 onward. No PidFD: Go would use clone3, which the filter may
// refuse. An exec failure is the fork's error, synchronously.
func (l *launch) forkExecDaemon(listen []int, sys *syscall.SysProcAttr) (int, error) {
	files, next := ChildFiles(l.stdio, listen, l.plan.Preserve, -1)
	sys.Setsid = true
	pid, err := syscall.ForkExec(l.plan.Argv[0], l.plan.Argv,
		&syscall.ProcAttr{Env: l.execEnv(), Files: files[:next], Sys: sys})
	if err != nil {
		return 0, OpError("execve", l.plan.Argv[0], err)
	}
	return pid, nil
}

// checkDaemon reads the forked daemon's status once (it is still the
// supervisor's unreaped child, so its pid is its own) and checks the
// LISTEN_PID it was given against its pid in its namespace, and, for a
// daemon that is not root, the credentials Go's fork child gave it
// (childCreds): it runs already, and is killed if they are not the plan's.
func checkDaemon(l *Launch, pid int) *StepError {
	file := "/proc/" + strconv.Itoa(pid) + "/status"
	b, err := os.ReadFile(file)
	if err != nil {
		return AtStep("verify", OpError("read", file, err))
	}
	if len(l.Listen) > 0 {
		if err := checkNSPid(b, oneImageDaemonPID); err != nil {
			return AtStep("listen", err)
		}
	}
	if l.UID == 0 {
		return nil
	}
	st, err := parseStatus(b)
	if err == nil {
		err = checkCreds(l, st)
	}
	if err != nil {
		return AtStep("verify", err)
	}
	return nil
}

// checkNSPid checks that a status's last NSpid, the pid in its own PID
// namespace, is want: the LISTEN_PID it was given.
func checkNSPid(status []byte, want int) error {
	for line := range bytes.Lines(status) {
		if f := bytes.Fields(line); len(f) > 1 && string(f[0]) == "NSpid:" {
			if got := string(f[len(f)-1]); got != strconv.Itoa(want) {
				return &StepError{Msg: fmt.Sprintf("the daemon is pid %s in its namespace, not the %d LISTEN_PID names", got, want)}
			}
			return nil
		}
	}
	return &StepError{Op: "read", Msg: "the daemon's status has no NSpid line"}
}
