package cgroup

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// v1 moves single threads: a tid written to a hierarchy's tasks file moves
// that thread alone, and what the thread forks afterwards starts in the
// group. The one-image launch (sandbox/oneimage.go) uses that to create
// PID 1 and the daemon inside the group from a thread of the supervisor's,
// where v2 uses clone3's CLONE_INTO_CGROUP instead.

// PlaceThread moves thread tid of this process into the group, in each v1
// hierarchy the group spans.
func (g *Group) PlaceThread(tid int) error {
	if g.v2 {
		return fmt.Errorf("cgroup %s: a thread is placed alone only on v1", g.path)
	}
	for _, c := range v1Controllers {
		if dir, ok := g.paths[c]; ok {
			if err := writeFile(dir, "tasks", strconv.Itoa(tid)); err != nil {
				return fmt.Errorf("cgroup %s: place thread %d: %w", g.path, tid, err)
			}
		}
	}
	return nil
}

// ReturnThread moves thread tid back to where this process's first thread
// is, in each v1 hierarchy the group spans: a supervisor's thread left in
// the daemon's group would put the supervisor's pid in its cgroup.procs,
// and so among what Kill ends.
func (g *Group) ReturnThread(tid int) error {
	own, err := ownPaths()
	if err != nil {
		return fmt.Errorf("cgroup %s: return thread %d: %w", g.path, tid, err)
	}
	for _, c := range v1Controllers {
		if _, ok := g.paths[c]; !ok {
			continue
		}
		p, ok := own[c]
		if !ok {
			return fmt.Errorf("cgroup %s: return thread %d: /proc/self/cgroup has no %s line", g.path, tid, c)
		}
		if err := writeFile(filepath.Join(Root, c, p), "tasks", strconv.Itoa(tid)); err != nil {
			return fmt.Errorf("cgroup %s: return thread %d: %w", g.path, tid, err)
		}
	}
	return nil
}

// ownPaths reads /proc/self/cgroup, the thread group leader's: each v1
// controller's path in its hierarchy, and v2's under "".
func ownPaths() (map[string]string, error) {
	f, err := os.Open("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") { // "0::/path" is v2's: c is ""
			out[c] = parts[2]
		}
	}
	return out, sc.Err()
}
