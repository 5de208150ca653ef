package supervisor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
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
// one has this spec's limits and a fresh OOM count. An in-place record
// that named it names no later cgroup (cgroup_owner.go).
func removeStale(p *sandbox.Plan) error {
	if err := checkFree(p); err != nil {
		return err
	}
	old, err := cgroup.New(p.Cgroup.Path)
	if err == nil && old.Exists() {
		err = old.Remove()
	}
	if err != nil {
		return &sandbox.StepError{Step: "cgroup", Msg: err.Error()}
	}
	return nil
}

// checkFree refuses a cgroup that already holds processes, with or without
// [resources]: two daemons must not share one, or stop and status of one
// would act on the other.
func checkFree(p *sandbox.Plan) error {
	if p.Cgroup.Path == "" {
		return nil
	}
	g, err := cgroup.New(p.Cgroup.Path)
	if err != nil || !g.Exists() {
		return nil
	}
	pids, err := g.Procs()
	if err != nil {
		return &sandbox.StepError{Step: "cgroup", Msg: err.Error()}
	}
	if len(pids) == 0 {
		return nil
	}
	return &sandbox.StepError{Step: "cgroup", Msg: fmt.Sprintf("%s already holds %d processes (pid %d %s), %s: two daemons must not share a cgroup",
		g, len(pids), pids[0], comm(pids[0]), whose(p, g))}
}

// whose says whom the name's cgroup g belongs to, as far as it is known.
func whose(p *sandbox.Plan, g *cgroup.Group) string {
	rec, err := readRecord(p)
	switch {
	case err != nil:
		return "whose owner is not known (" + err.Error() + ")"
	case rec.names(p, g) && rec.spec == p.Cgroup.Spec:
		return "of this spec run in place: daemonbox stop ends them"
	case rec.names(p, g):
		return "of another spec (" + rec.spec + ") run in place"
	}
	return "of another daemon named " + p.Name + " (a supervised one, or one whose supervisor was killed); stop it, or give this spec another name or resources.parent"
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

// enterCgroup makes the cgroup of an in-place launch, records that it is
// this spec's (cgroup_owner.go), and moves daemonbox, which is about to
// become the daemon, into it. Nothing stays to remove it: the next start or
// stop does. Without [resources] the daemon gets no cgroup, but it is still
// refused while another daemon holds the name's.
func enterCgroup(p *sandbox.Plan) error {
	if !p.Cgroup.Set {
		return checkFree(p)
	}
	if err := claimRecord(p); err != nil {
		return err
	}
	g, err := makeCgroup(p)
	if err != nil || g == nil {
		return err
	}
	id, err := groupID(g)
	if err == nil {
		err = writeRecord(p, id)
	}
	if err != nil {
		g.Remove()
		return &sandbox.StepError{Step: "cgroup", Msg: err.Error()}
	}
	if err := g.Place(os.Getpid()); err != nil {
		g.Remove()
		dropRecord(p)
		return &sandbox.StepError{Step: "cgroup", Msg: err.Error()}
	}
	return nil
}

// claimRecord refuses to replace a record for this name that names another
// cgroup (another resources.parent) still holding processes: its daemon
// would lose its owner.
func claimRecord(p *sandbox.Plan) error {
	rec, err := readRecord(p)
	if err != nil && !errors.Is(err, errBadRecord) {
		return &sandbox.StepError{Step: "cgroup", Msg: err.Error()}
	}
	if rec == nil || rec.cgroup == p.Cgroup.Path {
		return nil
	}
	g, err := cgroup.New(rec.cgroup)
	if err != nil || !g.Exists() {
		return nil
	}
	if pids, err := g.Procs(); err != nil || len(pids) > 0 {
		return &sandbox.StepError{Step: "cgroup", Msg: fmt.Sprintf("%s names cgroup %s of %s, which still runs in place: two in-place daemons must not share a name", recordPath(p), g, rec.spec)}
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

// listCgroup prints the processes in the daemon's cgroup, for status, if
// the supervised daemon pid is among them: otherwise the cgroup is not its.
func listCgroup(w io.Writer, p *sandbox.Plan, pid int) {
	if p.Cgroup.Path == "" {
		return
	}
	g, err := cgroup.New(p.Cgroup.Path)
	if err != nil || !g.Exists() {
		return
	}
	pids, err := g.Procs()
	switch {
	case err != nil:
		fmt.Fprintf(w, "  cgroup %s: %v\n", g, err)
	case slices.Contains(pids, pid):
		printProcs(w, g, pids)
	}
}

func printProcs(w io.Writer, g *cgroup.Group, pids []int) {
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

// stopGroup ends and removes the cgroup of this spec's daemon when it has
// no supervisor (it ran in place, or its supervisor was killed): stop's
// signal, then SIGKILL after stop_timeout. It returns how many processes it
// ended.
func stopGroup(p *sandbox.Plan, g *cgroup.Group) (int, error) {
	n, err := endGroup(g, syscall.Signal(p.Stop), p.StopTimeout)
	if err == nil {
		err = g.Remove()
	}
	return n, err
}

// orphan is the name's cgroup when no supervisor holds the pidfile.
type orphan struct {
	g    *cgroup.Group // nil: there is none
	pids []int
	rec  *owner // the name's in-place record, read only if g exists; nil: none
	ours bool   // the record names this spec and this very cgroup
}

// findOrphan looks at the name's cgroup and record.
func findOrphan(p *sandbox.Plan) (orphan, error) {
	var o orphan
	if p.Cgroup.Path == "" {
		return o, nil
	}
	g, err := cgroup.New(p.Cgroup.Path)
	if err != nil || !g.Exists() {
		return o, err
	}
	o.g = g
	if o.pids, err = g.Procs(); err != nil {
		return o, err
	}
	o.rec, err = readRecord(p)
	if errors.Is(err, errBadRecord) { // it names no cgroup
		o.rec, err = nil, nil
	}
	if err != nil {
		return o, err
	}
	o.ours = o.rec.names(p, g) && o.rec.spec == p.Cgroup.Spec
	return o, nil
}

// notOurs says why the cgroup o, which holds processes, is not touched.
func (o orphan) notOurs(p *sandbox.Plan) error {
	if o.rec.names(p, o.g) {
		return fmt.Errorf("%s: cgroup %s belongs to another spec (%s); not touched", p.Name, o.g, o.rec.spec)
	}
	return fmt.Errorf("%s: cgroup %s holds %d processes that are not this spec's (no supervisor holds %s, and no in-place run of it is recorded in %s); not touched",
		p.Name, o.g, len(o.pids), p.PidfilePath(), recordPath(p))
}
