package cgroup

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// pollEvery is how often Kill and AwaitEmpty look at the group again: v1
// has no event for "empty" that a process can wait on.
const pollEvery = 5 * time.Millisecond

// Kill ends every process in the group with SIGKILL and waits, at most
// timeout, until the group is empty. On v2 the kernel does it in one write
// (cgroup.kill, Linux 5.14). Otherwise, as systemd does on v1, the group is
// frozen, so that nothing forks while it is listed, every process is sent
// SIGKILL, and the group is thawed so that they can die; again until empty.
func (g *Group) Kill(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	if pids, err := g.Procs(); err == nil && len(pids) == 0 {
		return nil // nothing to freeze for
	}
	if g.v2 {
		err := writeFile(g.paths[""], "cgroup.kill", "1")
		if err == nil {
			return g.AwaitEmpty(time.Until(deadline))
		}
		if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("cgroup %s: write cgroup.kill: %w", g.path, err)
		}
	}
	for {
		pids, err := g.freezeAndKill()
		if err != nil || len(pids) == 0 {
			return err
		}
		if g.AwaitEmpty(min(time.Until(deadline), 100*time.Millisecond)) == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroup %s: %d processes still there after SIGKILL for %v", g.path, len(pids), timeout)
		}
	}
}

// freezeAndKill sends SIGKILL to every process in the frozen group and
// thaws it. It returns the pids it found.
func (g *Group) freezeAndKill() ([]int, error) {
	if err := g.freeze(true); err != nil {
		return nil, fmt.Errorf("cgroup %s: freeze: %w", g.path, err)
	}
	pids, err := g.Procs()
	for _, pid := range pids {
		unix.Kill(pid, unix.SIGKILL) // ESRCH: gone already
	}
	if terr := g.freeze(false); terr != nil && err == nil {
		err = fmt.Errorf("cgroup %s: thaw: %w", g.path, terr)
	}
	return pids, err
}

// Signal sends sig to every process in the group, once.
func (g *Group) Signal(sig unix.Signal) error {
	pids, err := g.Procs()
	for _, pid := range pids {
		unix.Kill(pid, sig)
	}
	return err
}

// AwaitEmpty waits until the group holds no process, at most timeout.
func (g *Group) AwaitEmpty(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pids, err := g.Procs()
		if err != nil {
			return fmt.Errorf("cgroup %s: %w", g.path, err)
		}
		if len(pids) == 0 {
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("cgroup %s: %d processes still there after %v", g.path, len(pids), timeout)
		}
		time.Sleep(pollEvery)
	}
}

// freeze freezes or thaws the group and, to freeze, waits until every
// process in it is frozen: v1's freezer.state reads FREEZING until then;
// v2's cgroup.events says "frozen 1". The wait is bounded: a task that
// keeps a v1 group FREEZING (one in an uninterruptible sleep) is given a
// thaw and another try now and then, as runc does, for about 2 s in all.
func (g *Group) freeze(on bool) error {
	f := v1Freezer
	dir := g.paths["freezer"]
	if g.v2 {
		f, dir = v2Freezer, g.paths[""]
	}
	if !on {
		return writeFile(dir, f.file, f.thawed)
	}
	wait := 100 * time.Microsecond
	for try := 1; try <= 200; try++ {
		if !g.v2 && try%50 == 0 {
			writeFile(dir, f.file, f.thawed)
		}
		err := writeFile(dir, f.file, f.frozen)
		ok := false
		if err == nil {
			ok, err = f.done(dir)
		}
		if ok {
			return nil
		}
		if err != nil {
			writeFile(dir, f.file, f.thawed) // not left frozen on the way out
			return err
		}
		time.Sleep(wait) // the kernel gives v1 no event for it
		wait = min(2*wait, 10*time.Millisecond)
	}
	writeFile(dir, f.file, f.thawed)
	return errors.New("still not frozen after 2s")
}

// A freezer is how one cgroup version freezes a group.
type freezer struct {
	file, frozen, thawed string
	done                 func(dir string) (bool, error)
}

var v1Freezer = freezer{file: "freezer.state", frozen: "FROZEN", thawed: "THAWED",
	done: func(dir string) (bool, error) {
		state, err := os.ReadFile(dir + "/freezer.state")
		return strings.TrimSpace(string(state)) == "FROZEN", err
	}}

var v2Freezer = freezer{file: "cgroup.freeze", frozen: "1", thawed: "0",
	done: func(dir string) (bool, error) {
		n, err := readKey(dir, "cgroup.events", "frozen")
		return n == 1, err
	}}
