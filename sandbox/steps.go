package sandbox

import (
	"syscall"
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
	env        []string     // the daemon's environment, when a step changed the plan's
	one        *oneImage    // the one-image launch's state (oneimage.go); nil on the staged path
	launchTID  int          // one image: the thread that made the sandbox, which the daemon's thread joins
	fork       *pid1Fork    // PID 1's state when it forks the daemon itself (pid1fork.go); else nil
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
	{"listen", (*launch).listenEnv, false},          // LISTEN_PID is getpid(): after pid1, the daemon's own pid in its PID namespace
	{"ready", (*launch).sendReady, false},           // the supervisor learns that exec is next; an error after it still reaches it
	{"landlock", (*launch).landlock, false},         // after the mounts and root, when paths are final; needs no_new_privs
	{"seccomp", (*launch).seccomp, false},           // last: daemonbox's own steps are never filtered
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

// sendReady tells the supervisor that exec is next. The supervisor's socket
// is close-on-exec, so its EOF after "ready" means the exec happened.
func (l *launch) sendReady() error {
	if l.ready != nil {
		if err := l.ready(); err != nil {
			return OpError("send ready", "", err)
		}
	}
	return nil
}

// exec replaces this process with the daemon.
func (l *launch) exec() error {
	err := syscall.Exec(l.plan.Argv[0], l.plan.Argv, l.execEnv())
	return OpError("execve", l.plan.Argv[0], err)
}

// execEnv is the daemon's environment: the plan's, or the one a step
// changed, with NOTIFY_SOCKET.
func (l *launch) execEnv() []string {
	env := l.plan.Env
	if l.env != nil {
		env = l.env
	}
	if l.plan.NotifySocket != "" {
		env = append(env[:len(env):len(env)], "NOTIFY_SOCKET=@"+l.plan.NotifySocket)
	}
	return env
}
