package sandbox

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/rlimit"
	"golang.org/x/sys/unix"
)

// launch is the process that is about to become the daemon: daemonbox itself
// when it execs in place, or the init stage it spawned. It must run on one
// locked OS thread: credentials, capabilities, keep-caps, no_new_privs and the
// signal mask belong to a thread, and the thread that calls execve passes
// them on.
type launch struct {
	plan       *Launch
	resumed    bool   // the daemon's own stage under PID 1: the sequence goes on after pid1
	stdio      [3]int // fds to place at 0, 1 and 2; -1 leaves the stream as it is
	supervised bool   // a daemonbox supervisor is the daemon's parent
	parent     int    // the supervisor's pid, for the parent-death check
	ready      func() error
	sock       int // the supervisor's socket in an init stage, else -1
	newRoot    int // the root prepared in a mount namespace, else -1
	status     int // /proc/thread-self/status, open from the status step on
	statusBuf  []byte
	start      threadStatus // read by the status step: what bounding and signals start from
}

type step struct {
	name string
	run  func(*launch) error
	// again: the daemon's own stage under PID 1 runs it too, though it
	// comes before pid1, since what it sets is the process's own.
	again bool
}

// sequence is the launch, in the only order that works. Each step fails
// closed: its error stops the launch before exec, and the daemon never runs.
var sequence = []step{
	{"nondumpable", (*launch).nondumpable, true}, // first: /proc/self of a non-dumpable process is root's, and ptrace is refused while daemonbox sets up
	{"session", (*launch).session, true},         // a new session has no controlling terminal (bubblewrap CVE-2017-5226)
	{"oom-score-adj", (*launch).oomScore, false}, // needs the host's /proc, so before the root changes; inherited by the daemon's stage
	{"status", (*launch).readStart, true},        // the same: this thread's status, which bounding, signals and verify read
	{"namespaces", (*launch).unshare, false},     // needs CAP_SYS_ADMIN; before any mount, so that none is made on the host
	{"hostname", (*launch).hostname, false},      // in the new UTS namespace
	{"loopback", (*launch).loopback, false},      // in the new network namespace, where lo starts down
	{"notify", (*launch).notifySocket, false},    // READY=1 from inside the new network namespace
	{"mounts", (*launch).mounts, false},          // "/" private first (P16); targets resolved inside the root (P11)
	{"root", (*launch).root, false},              // pivot_root, or chroot without a mount namespace; needs privilege
	{"pid1", (*launch).pid1, false},              // PID namespace: daemonbox stays PID 1; the rest runs in the daemon's process
	{"rlimits", (*launch).rlimits, false},        // raising a limit needs CAP_SYS_RESOURCE; core = 0 before anything can dump
	{"umask", (*launch).umask, false},
	{"fds", (*launch).fds, false},                   // stdio placed; every other fd close-on-exec (runc CVE-2024-21626)
	{"bounding", (*launch).bounding, false},         // needs CAP_SETPCAP, which the uid change takes away
	{"keep-caps", (*launch).keepCaps, false},        // so the permitted set survives setresuid
	{"groups", (*launch).groups, false},             // needs CAP_SETGID: before gid and uid
	{"gid", (*launch).gid, false},                   // needs CAP_SETGID: before uid
	{"uid", (*launch).uid, false},                   // clears the effective set, keeps permitted (keep-caps)
	{"capabilities", (*launch).capabilities, false}, // after the uid change, from the kept permitted set
	{"parent-death", (*launch).parentDeath, false},  // after the uid change, which clears the parent-death signal
	{"signals", (*launch).signals, false},           // late: a signal ignored from here on no longer reaches daemonbox's runtime
	{"no-new-privs", (*launch).noNewPrivs, false},   // last privilege step: nothing after it needs a setuid helper
	{"cwd", (*launch).cwd, false},                   // as the daemon's user, so its permissions apply, as systemd does
	{"verify", (*launch).verify, false},             // read every credential back; trust no call's silent success
	{"exec", (*launch).exec, false},
}

// run performs every step. It returns only on failure.
func (l *launch) run() *StepError {
	if err := onFirstThread(); err != nil {
		return err
	}
	pastPID1 := !l.resumed
	for _, s := range sequence {
		if pastPID1 || s.again {
			if err := s.run(l); err != nil {
				return AtStep(s.name, err)
			}
		}
		pastPID1 = pastPID1 || s.name == "pid1"
	}
	return &StepError{Step: "exec", Msg: "returned without error"}
}

func (l *launch) nondumpable() error { return SetDumpable(false) }

// SetDumpable sets PR_SET_DUMPABLE: a non-dumpable process's /proc files
// are root's, and only a holder of CAP_SYS_PTRACE may ptrace it.
func SetDumpable(on bool) error {
	v := uintptr(0)
	if on {
		v = 1
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, v, 0, 0, 0); err != nil {
		return OpError("prctl PR_SET_DUMPABLE", "", err)
	}
	return nil
}

func (l *launch) session() error {
	if sid, _ := unix.Getsid(0); sid == os.Getpid() {
		return nil // the supervisor started us with setsid
	}
	if _, err := unix.Setsid(); err != nil {
		return OpError("setsid", "", err)
	}
	return nil
}

func (l *launch) oomScore() error {
	if l.plan.OOMScoreAdj == nil {
		return nil
	}
	const file = "/proc/self/oom_score_adj"
	if err := os.WriteFile(file, []byte(strconv.Itoa(*l.plan.OOMScoreAdj)), 0); err != nil {
		return OpError("write", file, err)
	}
	return nil
}

func (l *launch) root() error {
	if l.newRoot >= 0 {
		return l.pivot()
	}
	root := l.plan.Root
	if root == "/" {
		return nil
	}
	if err := unix.Chdir(root); err != nil {
		return OpError("chdir", root, err)
	}
	if err := unix.Chroot("."); err != nil {
		return OpError("chroot", root, err)
	}
	if err := unix.Chdir("/"); err != nil {
		return OpError("chdir", "/ inside "+root, err)
	}
	return nil
}

func (l *launch) rlimits() error {
	err := rlimit.Apply(l.plan.Rlimits)
	var lerr *rlimit.Error
	if errors.As(err, &lerr) {
		return OpError("setrlimit", lerr.Limit.String(), lerr.Err)
	}
	return err
}

func (l *launch) umask() error {
	unix.Umask(int(l.plan.Umask))
	return nil
}

// fds puts the standard streams in place and marks every other fd but the
// preserved ones close-on-exec. close_range costs the same whatever
// RLIMIT_NOFILE is; daemonbox's own fds (the supervisor socket) close at exec.
func (l *launch) fds() error {
	for target, src := range l.stdio {
		if src >= 0 && src != target {
			if err := unix.Dup3(src, target, 0); err != nil {
				return OpError("dup3", fmt.Sprintf("fd %d to %d", src, target), err)
			}
		}
	}
	next := uint(3)
	for _, fd := range l.plan.Preserve {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0); err != nil {
			return OpError("fcntl F_SETFD", "preserved fd "+strconv.Itoa(fd), err)
		}
		if err := closeOnExec(next, uint(fd)-1); err != nil {
			return err
		}
		next = uint(fd) + 1
	}
	return closeOnExec(next, ^uint(0))
}

func closeOnExec(first, last uint) error {
	if first > last {
		return nil
	}
	if err := unix.CloseRange(first, last, unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return OpError("close_range", fmt.Sprintf("%d-%d", first, last), err)
	}
	return nil
}

// bounding drops only what the set still holds: each drop commits new
// credentials (2.7 us here), and under a container runtime's bounding set
// most of the kernel's capabilities are gone already.
func (l *launch) bounding() error {
	return caps.DropBounding(l.start.Caps.Bounding, l.plan.Caps.Keep)
}

func (l *launch) keepCaps() error { return caps.KeepAcrossSetuid() }

// groups, gid and uid change the credentials of this thread only, the one
// that will call execve: the daemon inherits that thread's credentials, as it
// does its capabilities and no_new_privs. Go's syscall.Setresuid would stop
// the world to change every runtime thread too, which the daemon never sees
// (execve ends them) and which costs more than the rest of the launch; runc
// does the same for the same reason.
func (l *launch) groups() error {
	if l.plan.Rootless {
		return nil // setgroups is denied there; plan validation required no groups
	}
	gids := make([]uint32, len(l.plan.Groups))
	copy(gids, l.plan.Groups)
	var list uintptr
	if len(gids) > 0 {
		list = uintptr(unsafe.Pointer(&gids[0]))
	}
	if _, _, errno := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(gids)), list, 0); errno != 0 {
		return OpError("setgroups", fmt.Sprint(l.plan.Groups), errno)
	}
	return nil
}

func (l *launch) gid() error {
	g := uintptr(l.plan.GID)
	if _, _, errno := unix.RawSyscall(unix.SYS_SETRESGID, g, g, g); errno != 0 {
		return OpError("setresgid", strconv.Itoa(int(g)), errno)
	}
	return nil
}

func (l *launch) uid() error {
	u := uintptr(l.plan.UID)
	if _, _, errno := unix.RawSyscall(unix.SYS_SETRESUID, u, u, u); errno != 0 {
		return OpError("setresuid", strconv.Itoa(int(u)), errno)
	}
	return nil
}

func (l *launch) capabilities() error { return caps.Apply(l.plan.Caps) }

// parentDeath asks for the parent-death signal, then checks that the
// supervisor did not die before the request took hold. In place there is no
// daemonbox parent to die, so nothing is set.
func (l *launch) parentDeath() error {
	if !l.supervised || l.plan.ParentDeath == 0 {
		return nil
	}
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(l.plan.ParentDeath), 0, 0, 0); err != nil {
		return OpError("prctl PR_SET_PDEATHSIG", strconv.Itoa(l.plan.ParentDeath), err)
	}
	if os.Getppid() != l.parent {
		return &StepError{Msg: "the supervisor exited during the launch"}
	}
	return nil
}

// signals leaves exactly the spec's signals ignored and this thread's mask
// empty: the daemon inherits both across exec. A handler daemonbox's runtime
// installed needs nothing, since exec resets a caught signal to SIG_DFL; so
// only the signals whose ignoring must change are touched, as SigIgn tells.
func (l *launch) signals() error {
	want := signalMask(l.plan.Ignore)
	for sig := 1; sig <= maxSig; sig++ {
		bit := uint64(1) << (sig - 1)
		if (l.start.SigIgn^want)&bit == 0 {
			continue
		}
		if err := setDisposition(sig, want&bit != 0); err != nil {
			return OpError("rt_sigaction", strconv.Itoa(sig), err)
		}
	}
	if err := unix.PthreadSigmask(unix.SIG_SETMASK, &unix.Sigset_t{}, nil); err != nil {
		return OpError("rt_sigprocmask", "", err)
	}
	return nil
}

func signalMask(sigs []int) uint64 {
	var m uint64
	for _, sig := range sigs {
		m |= 1 << (sig - 1)
	}
	return m
}

func (l *launch) noNewPrivs() error {
	if !l.plan.NoNewPrivs {
		return nil
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return OpError("prctl PR_SET_NO_NEW_PRIVS", "", err)
	}
	return nil
}

func (l *launch) cwd() error {
	if err := unix.Chdir(l.plan.Cwd); err != nil {
		return OpError("chdir", l.plan.Cwd, err)
	}
	wd, err := getcwd()
	if err != nil {
		return OpError("getcwd", l.plan.Cwd, err)
	}
	// Outside the root, the kernel's getcwd starts with "(unreachable)".
	if !strings.HasPrefix(wd, "/") {
		return &StepError{Op: "getcwd", Path: l.plan.Cwd, Msg: "outside the root: " + wd}
	}
	return nil
}

// getcwd asks the kernel for the working directory with a 256-byte buffer in
// its frame: unix.Getwd's 4 KiB array alone took the launch past the 4 KiB
// stack the runtime gives the init goroutine, and growing the stack there
// copies every frame. A longer path takes longCwd, which lies in the
// package's data, not in the frame (a second array of constant size here
// would sit in the frame, used or not). Unlike unix.Getwd, it returns the
// kernel's answer as it is, "(unreachable)" prefix included, for the caller
// to judge.
func getcwd() (string, error) {
	var buf [256]byte
	b := buf[:]
	n, err := unix.Getcwd(b)
	if err == unix.ERANGE {
		b = longCwd[:]
		n, err = unix.Getcwd(b)
	}
	if err != nil {
		return "", err
	}
	if n < 1 || n > len(b) || b[n-1] != 0 { // n counts the NUL
		return "", unix.EINVAL
	}
	return string(b[:n-1]), nil
}

// longCwd is getcwd's buffer for paths over 256 bytes. Only the launch's cwd
// step calls getcwd, once, on the one goroutine that runs the sequence.
var longCwd [unix.PathMax]byte

func (l *launch) readStart() error {
	fd, err := unix.Open(statusFile, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return OpError("open", statusFile, err)
	}
	l.status = fd
	l.start, err = readStatus(l.status, &l.statusBuf)
	return err
}

// verify reads the thread's state back from the kernel, all at once, and
// compares it with the plan.
func (l *launch) verify() error {
	st, err := readStatus(l.status, &l.statusBuf)
	if err != nil {
		return err
	}
	u, g := l.plan.UID, l.plan.GID
	if st.UID != [4]uint32{u, u, u, u} {
		return fmt.Errorf("uids (real, effective, saved, fs) are %v, want %d", st.UID, u)
	}
	if st.GID != [4]uint32{g, g, g, g} {
		return fmt.Errorf("gids (real, effective, saved, fs) are %v, want %d", st.GID, g)
	}
	if !l.plan.Rootless && !sameSet(st.Groups, l.plan.Groups) { // rootless, the caller's stay
		return fmt.Errorf("supplementary groups are %v, want %v", st.Groups, l.plan.Groups)
	}
	if err := caps.Verify(l.plan.Caps, st.Caps); err != nil {
		return err
	}
	if st.NoNewPrivs != l.plan.NoNewPrivs {
		return fmt.Errorf("no_new_privs is %v, want %v", st.NoNewPrivs, l.plan.NoNewPrivs)
	}
	if want := signalMask(l.plan.Ignore); st.SigIgn != want || st.SigBlk != 0 {
		return fmt.Errorf("ignored signals %#x, blocked %#x; want %#x and none", st.SigIgn, st.SigBlk, want)
	}
	return nil
}

// sameSet compares the kernel's group list, which it keeps sorted, with the
// plan's, which has no duplicates.
func sameSet(sorted, want []uint32) bool {
	if len(sorted) != len(want) {
		return false
	}
	for _, g := range want {
		if _, found := slices.BinarySearch(sorted, g); !found {
			return false
		}
	}
	return true
}

// exec tells the supervisor that exec is next, then replaces this process
// with the daemon. The supervisor's socket is close-on-exec, so its EOF after
// "ready" means the exec happened.
func (l *launch) exec() error {
	if l.ready != nil {
		if err := l.ready(); err != nil {
			return OpError("send ready", "", err)
		}
	}
	env := l.plan.Env
	if l.plan.NotifySocket != "" {
		env = append(env[:len(env):len(env)], "NOTIFY_SOCKET=@"+l.plan.NotifySocket)
	}
	err := syscall.Exec(l.plan.Argv[0], l.plan.Argv, env)
	return OpError("execve", l.plan.Argv[0], err)
}
