package sandbox

import (
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/daemonbox/daemonbox/cgroup"
	"github.com/daemonbox/daemonbox/seccomp"
	"golang.org/x/sys/unix"
)

// The one-image launch (issue 20): a root launch with a PID namespace and
// no user namespace runs in the supervisor itself, on a goroutine locked
// to its OS thread and never unlocked, so that the thread ends with the
// goroutine and no other goroutine ever runs on it (Go starts new threads
// from its template thread while a locked one asks, so none inherits this
// thread's state). The thread unshares its fs struct and the namespaces,
// starts an existing minimal PID 1 (catatonit) into a new PID namespace,
// enters that namespace, mounts its /proc from outside, pivots, takes the
// daemon's credentials and filters, and forks the daemon: a plain child of
// the supervisor, which needs no stage to relay its status.
//
// Per-process state cannot be set this way, since it would land on the
// supervisor: OneImageBlocker sends such a plan to the staged path.

// LaunchEnv forces a launch path: "one-image" (an error when the plan is
// not eligible) or "staged"; unset, the one-image path is taken when the
// plan is eligible.
const LaunchEnv = "DAEMONBOX_LAUNCH"

// oneImageDaemonPID is the daemon's pid in its namespace: the first child
// after PID 1, which in pause mode forks nothing. LISTEN_PID is set to it
// before the fork, and the fork checks it.
const oneImageDaemonPID = 2

// UseOneImage says which path a launch of p takes, as LaunchEnv and
// OneImageBlocker decide. cg is the daemon's cgroup, nil without one.
func UseOneImage(p *Plan, cg *cgroup.Group) (bool, error) {
	mode := os.Getenv(LaunchEnv)
	switch mode {
	case "staged":
		return false, nil
	case "", "one-image":
	default:
		return false, &StepError{Step: "launch", Msg: fmt.Sprintf("%s=%q: want \"one-image\" or \"staged\"", LaunchEnv, mode)}
	}
	why := p.oneImageBlockers(cg != nil && cg.V2()).why()
	if why != "" && mode == "one-image" {
		return false, &StepError{Step: "launch", Msg: LaunchEnv + "=one-image: " + why}
	}
	return why == "", nil
}

// OneImageBlocker says why l cannot take the one-image path, or "".
// intoCgroup: the daemon is to be cloned into a cgroup v2 group, with
// clone3 (CLONE_INTO_CGROUP).
func OneImageBlocker(l *Launch, filter *seccomp.Policy, intoCgroup bool) string {
	return planBlockers(l, filter, intoCgroup).why()
}

// oneImageBlockers are OneImageBlocker's reasons that the plan fixes, kept
// apart from those the process's own state gives (its euid and ignored
// signals), which may change between plan and launch and are asked anew:
// before is the first reason found before the ignored signals are asked,
// after the first found after them.
type oneImageBlockers struct{ before, after string }

// why is OneImageBlocker's answer: the reasons in their order, with the
// process's state asked now.
func (b oneImageBlockers) why() string {
	if os.Geteuid() != 0 {
		return "not run as root"
	}
	if b.before != "" {
		return b.before
	}
	if ign, err := processIgnored(); err != nil || ign&^jobStops != 0 {
		return fmt.Sprintf("daemonbox itself ignores signals (%#x) that the daemon would inherit", ign)
	}
	return b.after
}

// planBlockers finds OneImageBlocker's reasons that l, filter and
// intoCgroup fix.
func planBlockers(l *Launch, filter *seccomp.Policy, intoCgroup bool) oneImageBlockers {
	if why := shapeBlocker(l); why != "" {
		return oneImageBlockers{before: why}
	}
	if intoCgroup && l.Unshare&unix.CLONE_NEWCGROUP != 0 {
		// The namespace's root is the cgroup of the thread that unshares
		// it, and clone3 puts a child only below that root (ENOENT
		// otherwise): it must be made inside the daemon's cgroup, which on
		// v2 a thread of the supervisor cannot join alone.
		return oneImageBlockers{before: "a cgroup namespace on cgroup v2 is made from inside the daemon's cgroup, which takes a stage"}
	}
	if why := perProcessBlocker(l); why != "" {
		return oneImageBlockers{before: why}
	}
	if why := filterBlocker(filter, intoCgroup, l.UID != 0); why != "" {
		return oneImageBlockers{after: why}
	}
	if initProgram(l) == "" {
		return oneImageBlockers{after: "no catatonit found for PID 1 (namespaces.init; Debian: apt-get install catatonit)"}
	}
	if !procTakesPidns() {
		return oneImageBlockers{after: "this kernel's procfs takes no pidns option, which mounting /proc from outside the PID namespace needs"}
	}
	return oneImageBlockers{}
}

// oneImageBlockers are p's plan-fixed reasons for intoCgroup: those
// NewPlan kept (keepBlockers), else found now (a decoded plan keeps none).
func (p *Plan) oneImageBlockers(intoCgroup bool) oneImageBlockers {
	if b := p.blockers[cgroupIndex(intoCgroup)]; b != nil {
		return *b
	}
	return planBlockers(&p.Launch, p.SeccompPolicy, intoCgroup)
}

func cgroupIndex(intoCgroup bool) int {
	if intoCgroup {
		return 1
	}
	return 0
}

// shapeBlocker: the path is for root launches (oneImageBlockers.why asks
// the euid) into a PID and a mount namespace. A user namespace needs a second stage: Go writes uid_map by
// path, which after the pivot resolves inside the root; the kernel gives a
// clone-made user namespace a full bounding set with no hook to drop it;
// and rootless mounts are made inside the namespace.
func shapeBlocker(l *Launch) string {
	switch {
	case l.UserNS || l.Rootless:
		return "a user namespace needs a second stage"
	case !l.PIDNS:
		return "no PID namespace"
	case !l.Init:
		return "init = false: the daemon itself is PID 1"
	case l.Unshare&unix.CLONE_NEWNS == 0:
		return "no mount namespace: the pivot that moves PID 1 into the root needs one"
	}
	return ""
}

// perProcessBlocker refuses what is per process and so would be set on the
// supervisor: oom_score_adj; rlimits but core, whose only effect on the
// supervisor is on its own core dumps; a parent-death signal other than
// SIGKILL, which here reaches PID 1 (its death ends the namespace, killing
// the daemon), not the daemon; and ignored signals but the job-control
// stops (jobStops), in the spec here and in the process itself in
// oneImageBlockers.why.
func perProcessBlocker(l *Launch) string {
	if l.OOMScoreAdj != nil {
		return "oom_score_adj is per process and would be the supervisor's"
	}
	for _, r := range l.Rlimits {
		if r.Resource != unix.RLIMIT_CORE {
			return "rlimit " + r.String() + " is per process and would be the supervisor's (only core may be set)"
		}
	}
	if l.ParentDeath != 0 && l.ParentDeath != int(unix.SIGKILL) {
		return "a parent-death signal other than SIGKILL: the daemon dies with its namespace, of SIGKILL"
	}
	if extra := signalMask(l.Ignore) &^ jobStops; extra != 0 {
		return fmt.Sprintf("ignored signals (%#x) other than SIGTSTP, SIGTTIN and SIGTTOU are per process and would be the supervisor's", extra)
	}
	return ""
}

// jobStops are SIGTSTP, SIGTTIN and SIGTTOU, which the spec ignores by
// default. The signals step sets dispositions for the whole process, so
// the supervisor ignores them too from that step until the daemon is
// forked (LaunchOne then puts back what it had): Go leaves these three at
// their default and daemonbox never asks for them, so all that changes
// meanwhile is that a terminal cannot stop the supervisor.
const jobStops = 1<<(unix.SIGTSTP-1) | 1<<(unix.SIGTTIN-1) | 1<<(unix.SIGTTOU-1)

// jobStopSignals are jobStops, one by one.
var jobStopSignals = []int{int(unix.SIGTSTP), int(unix.SIGTTIN), int(unix.SIGTTOU)}

// restoreIgnored puts the job-control stops back as they were (orig)
// once the daemon is forked.
func restoreIgnored(orig uint64) error {
	for _, sig := range jobStopSignals {
		if err := setDisposition(sig, orig&(1<<(sig-1)) != 0); err != nil {
			return OpError("rt_sigaction", strconv.Itoa(sig), err)
		}
	}
	return nil
}

// threadCalls are what runs on the thread that forks the daemon (the
// one-image daemon thread, or PID 1's in the two-image shape) after its
// filter is loaded, and in Go's fork child: the fork and its error pipe, the
// child's fd layout, session and exec, the open-files limit Go puts back
// in the child (prlimit64) when it raised it at start, the Go runtime's
// own calls on a thread that blocks, takes signals (preemption, SIGCHLD)
// and exits.
var threadCalls = []string{"clone", "futex", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
	"sigaltstack", "setsid", "dup3", "fcntl", "close", "read", "write", "pipe2", "execve", "exit",
	"exit_group", "mmap", "munmap", "madvise", "sched_yield", "nanosleep", "getpid", "gettid",
	"tgkill", "wait4", "prlimit64"}

// filterBlocker refuses a filter that would refuse a call the launch
// thread or its fork child makes once the filter is on: the thread is the
// supervisor's, and a refusal there would break the supervisor, or kill it
// under action "kill". clone counts when it is allowed without CLONE_NEW*.
func filterBlocker(p *seccomp.Policy, intoCgroup, childCreds bool) string {
	if p == nil {
		return ""
	}
	calls := threadCalls
	if intoCgroup {
		calls = append(calls[:len(calls):len(calls)], "clone3") // CLONE_INTO_CGROUP
	}
	if childCreds { // a non-root daemon's uid change is the fork child's (childCreds)
		calls = append(calls[:len(calls):len(calls)], "setgroups", "setgid", "setuid", "prctl", "capget", "capset")
	}
	if c := p.FirstRefused(calls...); c != "" {
		return "the seccomp filter refuses " + c + ", which the supervisor's thread for the daemon makes after loading it"
	}
	return ""
}

// procTakesPidns probes, once, whether procfs takes fsconfig's "pidns",
// which Linux 6.15 and later do.
var procTakesPidns = sync.OnceValue(func() bool {
	fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return false
	}
	defer unix.Close(fs)
	ns, err := ownPidns()
	if err != nil {
		return false
	}
	defer unix.Close(ns)
	return unix.FsconfigSetFd(fs, pidnsOption, ns) == nil
})

// pidfdGetPidNamespace is PIDFD_GET_PID_NAMESPACE, _IO(0xFF, 5) (Linux
// 6.11), which x/sys/unix lacks.
const pidfdGetPidNamespace = 0xff05

// ownPidns opens this process's PID namespace: through a pidfd, which costs
// less than walking /proc/self/ns/pid on the plan's path, or by that path
// on a kernel without the ioctl.
func ownPidns() (int, error) {
	if pidfd, err := unix.PidfdOpen(os.Getpid(), 0); err == nil {
		ns, err := unix.IoctlRetInt(pidfd, pidfdGetPidNamespace)
		unix.Close(pidfd)
		if err == nil {
			return ns, nil
		}
	}
	return unix.Open("/proc/self/ns/pid", unix.O_RDONLY|unix.O_CLOEXEC, 0)
}

const pidnsOption = "pidns"

// setPidns passes the PID namespace fd named by v to procfs.
func setPidns(fs int, v string) error {
	var fd int
	if _, err := fmt.Sscan(v, &fd); err != nil {
		return OpError("fsconfig", "proc pidns="+v, err)
	}
	if err := unix.FsconfigSetFd(fs, pidnsOption, fd); err != nil {
		return OpError("fsconfig", "proc pidns", err)
	}
	return nil
}

// initProgram is the host path of the PID 1 program the plan found
// (namespaces.init, plan_init.go), "" when there is none.
func initProgram(l *Launch) string { return l.InitProgram }
