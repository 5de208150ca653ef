package sandbox

import (
	"errors"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"

	"github.com/daemonbox/daemonbox/rlimit"
	"golang.org/x/sys/unix"
)

// The steps that set the daemon's process up: dumpable, session, OOM score,
// limits, umask, parent-death signal, no_new_privs.

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
	if l.plan.OOMScoreAdj == nil || l.plan.UserNS { // in a user namespace the parent set it (stageOOMScore)
		return nil
	}
	const file = "/proc/self/oom_score_adj"
	if err := os.WriteFile(file, []byte(strconv.Itoa(*l.plan.OOMScoreAdj)), 0); err != nil {
		return OpError("write", file, err)
	}
	return nil
}

func (l *launch) rlimits() error {
	heapAhead(l.plan.Rlimits)
	err := rlimit.Apply(l.plan.Rlimits)
	var lerr *rlimit.Error
	if errors.As(err, &lerr) {
		return OpError("setrlimit", lerr.Limit.String(), lerr.Err)
	}
	if err == nil {
		keepNofile(l.plan.Rlimits)
	}
	return err
}

// heapRoom is the heap that heapAhead keeps mapped: far more than the
// steps after rlimits and the exec allocate.
const heapRoom = 8 << 20

// heapPiece is one span's worth of heapRoom.
const heapPiece = 8 << 10

// heapAhead maps heap room before an address-space or data limit lands. A
// Go process reserves far more address space than it uses (1.2 GB of
// VSZ here), so such a limit refuses every new mapping after it, and a
// heap that grew in the steps left or the exec's copies of argv and env
// died with "fatal error: runtime: out of memory" (seen in the VM with
// the example's as = "256MiB"). Room allocated and collected here stays
// mapped, and the allocations after it take it. No collection runs after
// it either: the collector's own work queues are mapped as it needs them
// (a collection under such a limit crashed the test's child with SIGSEGV).
// Only a process that execs next sets these limits (PID 1 of two images
// refuses them: pid1RlimitOK), so going without collections until then
// costs nothing.
func heapAhead(limits []rlimit.Limit) {
	for _, r := range limits {
		if r.Resource == unix.RLIMIT_AS || r.Resource == unix.RLIMIT_DATA {
			// In pieces of a span each, so that the spans' own records,
			// which the runtime maps apart from the heap, are made too.
			room := make([][]byte, heapRoom/heapPiece)
			for i := range room {
				room[i] = make([]byte, heapPiece)
			}
			runtime.KeepAlive(room)
			runtime.GC()
			debug.SetGCPercent(-1)
			return
		}
	}
}

// keepNofile tells Go that the spec set RLIMIT_NOFILE: Go raises its own
// soft limit at start and puts the old one back in what it execs or forks,
// over the spec's, unless syscall.Setrlimit was called; this call sets the
// same values again.
func keepNofile(limits []rlimit.Limit) {
	for _, r := range limits {
		if r.Resource == unix.RLIMIT_NOFILE {
			syscall.Setrlimit(r.Resource, &syscall.Rlimit{Cur: r.Soft, Max: r.Hard})
		}
	}
}

func (l *launch) umask() error {
	unix.Umask(int(l.plan.Umask))
	return nil
}

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

func (l *launch) noNewPrivs() error {
	if !l.plan.NoNewPrivs {
		return nil
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return OpError("prctl PR_SET_NO_NEW_PRIVS", "", err)
	}
	return nil
}
