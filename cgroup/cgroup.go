// Package cgroup gives a daemon a control group of its own, on cgroup v2 or
// on v1's per-controller hierarchies, through runc's library
// (github.com/opencontainers/cgroups, its fs and fs2 managers): limits,
// placement, the list of processes, ending them all, OOM kills, removal.
// Paths are relative to the hierarchy's root ("daemonbox/web"); on v1 the
// same path is made under each controller's hierarchy.
package cgroup

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sync"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fs"
	"github.com/opencontainers/cgroups/fs2"
	"github.com/sirupsen/logrus"
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
func V2() bool {
	quiet()
	return cgroups.IsCgroup2UnifiedMode()
}

// quiet silences logrus, through which the library reports what it falls
// back on: daemonbox's errors are its own, and its stderr may be the daemon's.
var quiet = sync.OnceFunc(func() {
	logrus.SetOutput(io.Discard)
	logrus.SetLevel(logrus.PanicLevel)
})

// Group is one control group.
type Group struct {
	path  string // relative to the root
	v2    bool
	paths map[string]string // v1: controller -> directory; v2: "" -> directory
	m     cgroups.Manager
}

// New returns the group at path, made or not; nothing is changed.
func New(path string) (*Group, error) {
	return newGroup(path, &cgroups.Resources{SkipDevices: true})
}

func newGroup(path string, res *cgroups.Resources) (*Group, error) {
	quiet()
	clean := filepath.Clean("/" + path)
	if clean == "/" || clean != "/"+path {
		return nil, fmt.Errorf("cgroup %q: not a relative path of plain names", path)
	}
	g := &Group{path: path, v2: V2(), paths: map[string]string{}}
	cfg := &cgroups.Cgroup{Resources: res}
	var err error
	if g.v2 {
		g.paths[""] = filepath.Join(Root, path)
		g.m, err = fs2.NewManager(cfg, g.paths[""])
	} else {
		g.v1Paths()
		g.m, err = fs.NewManager(cfg, maps.Clone(g.paths)) // Destroy empties its map
	}
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", path, err)
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
// On v2 the controllers the limits need are enabled in each parent.
func Create(path string, l Limits) (*Group, error) {
	res, err := resources(l, V2())
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", path, err)
	}
	g, err := newGroup(path, res)
	if err != nil {
		return nil, err
	}
	if err := g.need(l); err != nil {
		return nil, err
	}
	if err := g.m.Apply(-1); err != nil { // -1: make the directories, move nobody
		return nil, fmt.Errorf("cgroup %s: create: %w", path, err)
	}
	if err := g.m.Set(res); err != nil {
		g.m.Destroy()
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
	if err := g.m.AddPid("", pid); err != nil {
		return fmt.Errorf("cgroup %s: place pid %d: %w", g.path, pid, err)
	}
	return nil
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

// Procs lists the processes in the group, and in any group below it.
func (g *Group) Procs() ([]int, error) {
	pids, err := cgroups.GetAllPids(g.Dir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return pids, err
}

// OOMKills is how many processes the kernel's OOM killer has killed in the
// group: memory.events' oom_kill on v2, memory.oom_control's on v1.
func (g *Group) OOMKills() (uint64, error) {
	if _, ok := g.paths["memory"]; !g.v2 && !ok {
		return 0, nil
	}
	n, err := g.m.OOMKillCount()
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil // no memory controller here
	}
	return n, err
}

// Remove removes the group's directories, and any group below them. The
// group must be empty.
func (g *Group) Remove() error {
	if err := g.m.Destroy(); err != nil {
		return fmt.Errorf("cgroup %s: remove: %w", g.path, err)
	}
	return nil
}

// String is the group's path as /proc/PID/cgroup shows it.
func (g *Group) String() string { return "/" + g.path }
