// Package cgroup gives a daemon a control group of its own, on cgroup v2 or
// on v1's per-controller hierarchies: limits, placement, the list of
// processes, ending them all, OOM kills, removal. Paths are relative to the
// hierarchy's root ("daemonbox/web"); on v1 the same path is made under each
// controller's hierarchy.
//
// It writes cgroupfs itself, as runc's library (github.com/opencontainers/
// cgroups, whose fs and fs2 managers it used before) does, and in the same
// order where order matters. The library's root package imports go-systemd's
// D-Bus client for a field daemonbox never sets, and with it godbus, logrus
// and most of net: their initializers and pages cost 0.5 to 0.7 ms on every
// launch, twice on a staged one (issue 20, bench/isolation.sh), for some
// ten files daemonbox writes.
package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Root is where the hierarchies are mounted.
const Root = "/sys/fs/cgroup"

// v1Controllers are the v1 hierarchies a group spans: those of the limits,
// and the freezer, which Kill needs.
var v1Controllers = []string{"memory", "pids", "cpu", "blkio", "freezer"}

// Limits are a group's limits, on cgroup v2's scales; nil is not set.
type Limits struct {
	MemoryMax     *uint64 // bytes
	MemorySwapMax *uint64 // bytes of swap, as memory.swap.max
	PidsMax       *int64
	CPUQuota      *int64  // microseconds per CPUPeriod
	CPUPeriod     uint64  // microseconds
	CPUWeight     *uint64 // 1..10000
	IOWeight      *uint64 // 1..10000
}

// V2 reports whether the host runs the unified hierarchy alone:
// /sys/fs/cgroup is itself a cgroup2 mount. A v1 host's cgroup2 at
// /sys/fs/cgroup/unified (hybrid) has no controllers and does not count.
func V2() bool { return unified() }

var unified = sync.OnceValue(func() bool {
	var st unix.Statfs_t
	return unix.Statfs(Root, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC
})

// Group is one control group.
type Group struct {
	path  string // relative to the root
	v2    bool
	paths map[string]string // v1: controller -> directory; v2: "" -> directory
}

// New returns the group at path, made or not; nothing is changed.
func New(path string) (*Group, error) {
	clean := filepath.Clean("/" + path)
	if clean == "/" || clean != "/"+path {
		return nil, fmt.Errorf("cgroup %q: not a relative path of plain names", path)
	}
	g := &Group{path: path, v2: V2(), paths: map[string]string{}}
	if g.v2 {
		g.paths[""] = filepath.Join(Root, path)
	} else {
		g.v1Paths()
	}
	return g, nil
}

// v1Paths finds the group's directory in each v1 hierarchy that is
// mounted; a missing one matters only if a limit needs it.
func (g *Group) v1Paths() {
	for _, c := range v1Controllers {
		var st unix.Stat_t
		if unix.Stat(filepath.Join(Root, c), &st) == nil {
			g.paths[c] = filepath.Join(Root, c, g.path)
		}
	}
}

// Path is the group's path relative to the root, "daemonbox/web".
func (g *Group) Path() string { return g.path }

// V2 says whether the group is in the unified hierarchy.
func (g *Group) V2() bool { return g.v2 }

// Dirs are the group's directories: one on v2, one per controller on v1.
func (g *Group) Dirs() map[string]string { return g.paths }

// Dir is the directory that lists the group's processes: the group's on
// v2, the pids controller's (or another one's) on v1.
func (g *Group) Dir() string {
	for _, c := range append([]string{""}, v1Controllers...) {
		if d, ok := g.paths[c]; ok {
			return d
		}
	}
	return ""
}

// Exists reports whether the group's directory is there.
func (g *Group) Exists() bool {
	_, err := os.Stat(g.Dir())
	return err == nil
}

// Create makes the group at path (or takes the one there) and sets l.
// On v2 each parent first enables every controller the root offers.
func Create(path string, l Limits) (*Group, error) {
	g, err := New(path)
	if err != nil {
		return nil, err
	}
	set, err := settings(l, g.v2)
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", path, err)
	}
	if err := g.need(l); err != nil {
		return nil, err
	}
	if err := g.make(); err != nil {
		return nil, fmt.Errorf("cgroup %s: create: %w", path, err)
	}
	if err := g.apply(set); err != nil {
		g.Remove()
		return nil, fmt.Errorf("cgroup %s: set limits: %w", path, err)
	}
	return g, nil
}

// need refuses limits whose v1 controller is not mounted.
func (g *Group) need(l Limits) error {
	if g.v2 {
		return nil
	}
	for c, set := range map[string]bool{
		"memory": l.MemoryMax != nil || l.MemorySwapMax != nil, "pids": l.PidsMax != nil,
		"cpu": l.CPUQuota != nil || l.CPUWeight != nil, "blkio": l.IOWeight != nil,
	} {
		if _, ok := g.paths[c]; set && !ok {
			return fmt.Errorf("cgroup %s: the %s controller is not mounted at %s", g.path, c, filepath.Join(Root, c))
		}
	}
	return nil
}

// Place moves pid, with all its threads, into the group.
func (g *Group) Place(pid int) error {
	for _, dir := range g.paths {
		if err := placeIn(dir, pid); err != nil {
			return fmt.Errorf("cgroup %s: place pid %d: %w", g.path, pid, err)
		}
	}
	return nil
}

// placeIn writes pid to dir's cgroup.procs. The kernel refuses, with
// EINVAL, a task still being created; runc tries five times in 150 ms.
func placeIn(dir string, pid int) error {
	for try := 1; ; try++ {
		err := writeFile(dir, "cgroup.procs", strconv.Itoa(pid))
		if !errors.Is(err, unix.EINVAL) || try == 5 {
			return err
		}
		time.Sleep(30 * time.Millisecond)
	}
}

// OpenDir opens the v2 group's directory for clone3's CLONE_INTO_CGROUP,
// which places a child in the group as it is created. On v1 it returns -1.
func (g *Group) OpenDir() (int, error) {
	if !g.v2 {
		return -1, nil
	}
	fd, err := unix.Open(g.paths[""], unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: g.paths[""], Err: err}
	}
	return fd, nil
}

// Procs lists the processes in the group, and in any group below it,
// except this one. On v1 a thread of the supervisor's is in the daemon's
// group for a moment: the one-image launch forks the daemon from a thread
// placed there, which ends just after (sandbox/oneimage_thread.go). Its pid
// is the supervisor's, and Kill must not freeze or end the supervisor.
func (g *Group) Procs() ([]int, error) {
	pids, err := allProcs(g.Dir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return slices.DeleteFunc(pids, func(pid int) bool { return pid == self }), err
}

var self = os.Getpid()

// OOMKills is how many processes the kernel's OOM killer has killed in the
// group: memory.events' oom_kill on v2, memory.oom_control's on v1.
func (g *Group) OOMKills() (uint64, error) {
	if _, ok := g.paths["memory"]; !g.v2 && !ok {
		return 0, nil
	}
	dir, file := g.paths[""], "memory.events"
	if !g.v2 {
		dir, file = g.paths["memory"], "memory.oom_control"
	}
	n, err := readKey(dir, file, "oom_kill")
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil // no memory controller here
	}
	return n, err
}

// Remove removes the group's directories, and any group below them. The
// group must be empty.
func (g *Group) Remove() error {
	// Every hierarchy is tried: one left behind with another's removal
	// would read as gone (Exists looks at one) and keep its old limits.
	var errs []error
	for _, dir := range g.paths {
		errs = append(errs, removeTree(dir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("cgroup %s: remove: %w", g.path, err)
	}
	return nil
}

// String is the group's path as /proc/PID/cgroup shows it.
func (g *Group) String() string { return "/" + g.path }
