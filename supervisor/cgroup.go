package supervisor

import (
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/daemonbox/daemonbox/cgroup"
	"github.com/daemonbox/daemonbox/sandbox"
)

// The daemon's cgroup (plan_cgroup.go says where it is) is made before the
// daemon starts and removed when it is gone; restarts reuse it. One left
// by an earlier run (an in-place run, which leaves nothing resident to
// remove it, or a supervisor that was killed) is removed at the next start
// if it is empty.

// supervisorLeaf is where daemonbox moves itself inside a delegated cgroup
// that holds it: cgroup v2 lets a cgroup with processes of its own enable
// no controller for the groups below it.
const supervisorLeaf = "daemonbox.supervisor"

// makeCgroup makes the daemon's cgroup with the spec's limits; nil if the
// plan has none.
func makeCgroup(p *sandbox.Plan) (*cgroup.Group, error) {
	c := p.Cgroup
	if c.Path == "" {
		return nil, nil
	}
	if err := removeStale(p); err != nil {
		return nil, err
	}
	if c.Delegated {
		if err := leaveBase(c.Base); err != nil {
			return nil, &sandbox.StepError{Step: "cgroup", Msg: err.Error()}
		}
	}
	g, err := cgroup.Create(c.Path, c.Limits)
	if err != nil {
		return nil, &sandbox.StepError{Step: "cgroup", Msg: err.Error()}
	}
	return g, nil
}

// removeStale removes an empty cgroup an earlier run left, so that the new
// one has this spec's limits and a fresh OOM count. One with processes
// belongs to a daemon still running (in place, or without its supervisor).
func removeStale(p *sandbox.Plan) error {
	old, err := cgroup.New(p.Cgroup.Path)
	if err != nil || !old.Exists() {
		return nil
	}
	pids, err := old.Procs()
	if err == nil && len(pids) > 0 {
		err = fmt.Errorf("%s still holds %d processes (pid %d): is %s running without a supervisor? daemonbox stop ends them", old, len(pids), pids[0], p.Name)
	}
	if err == nil {
		err = old.Remove()
	}
	if err != nil {
		return &sandbox.StepError{Step: "cgroup", Msg: err.Error()}
	}
	return nil
}

// leaveBase moves daemonbox into a leaf of the delegated cgroup that
// holds it, as systemd asks of a delegated service's main process.
func leaveBase(base string) error {
	own, err := cgroup.Own()
	if err != nil || own != base {
		return err
	}
	g, err := cgroup.Create(path.Join(base, supervisorLeaf), cgroup.Limits{})
	if err != nil {
		return err
	}
	return g.Place(os.Getpid())
}

// enterCgroup makes the cgroup of an in-place launch and moves daemonbox,
// which is about to become the daemon, into it. Nothing stays to remove
// it: the next start or stop does.
func enterCgroup(p *sandbox.Plan) error {
	if !p.Cgroup.Set {
		return nil
	}
	g, err := makeCgroup(p)
	if err != nil || g == nil {
		return err
	}
	if err := g.Place(os.Getpid()); err != nil {
		g.Remove()
		return &sandbox.StepError{Step: "cgroup", Msg: err.Error()}
	}
	return nil
}

// endGroup ends what is left in the daemon's cgroup once the daemon has
// ended: sig, then after timeout SIGKILL for every process in it (see
// cgroup.Kill). It returns how many there were.
func endGroup(g *cgroup.Group, sig syscall.Signal, timeout time.Duration) (int, error) {
	pids, err := g.Procs()
	if err != nil || len(pids) == 0 {
		return 0, err
	}
	g.Signal(sig)
	if g.AwaitEmpty(timeout) == nil {
		return len(pids), nil
	}
	return len(pids), g.Kill(stopGrace)
}

// oomMessage is the supervisor's line for n OOM kills in the daemon's cgroup.
func oomMessage(p *sandbox.Plan, n uint64) string {
	limit := ""
	if p.Cgroup.MemoryMax != "" {
		limit = " (memory_max " + p.Cgroup.MemoryMax + ")"
	}
	if n == 1 {
		return fmt.Sprintf("%s: killed by the kernel's OOM killer%s", p.Name, limit)
	}
	return fmt.Sprintf("%s: %d processes killed by the kernel's OOM killer%s", p.Name, n, limit)
}

// listCgroup prints the processes in the daemon's cgroup, for status.
func listCgroup(w io.Writer, p *sandbox.Plan) {
	if p.Cgroup.Path == "" {
		return
	}
	g, err := cgroup.New(p.Cgroup.Path)
	if err != nil || !g.Exists() {
		return
	}
	pids, err := g.Procs()
	if err != nil {
		fmt.Fprintf(w, "  cgroup %s: %v\n", g, err)
		return
	}
	fmt.Fprintf(w, "  cgroup %s: %d processes\n", g, len(pids))
	for _, pid := range pids {
		fmt.Fprintf(w, "    %d %s\n", pid, comm(pid))
	}
}

// comm is a process's name, as it set it (prctl PR_SET_NAME) or exec did.
func comm(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return strings.TrimSpace(string(b))
}

// stopGroup ends and removes the cgroup of a daemon that has no supervisor
// (it ran in place, or its supervisor was killed): stop's signal, then
// SIGKILL after stop_timeout. It returns how many processes it ended.
func stopGroup(p *sandbox.Plan) (int, error) {
	if p.Cgroup.Path == "" {
		return 0, nil
	}
	g, err := cgroup.New(p.Cgroup.Path)
	if err != nil || !g.Exists() {
		return 0, nil
	}
	n, err := endGroup(g, syscall.Signal(p.Stop), p.StopTimeout)
	if err == nil {
		err = g.Remove()
	}
	return n, err
}
