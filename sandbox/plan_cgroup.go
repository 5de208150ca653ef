package sandbox

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/daemonbox/daemonbox/cgroup"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// Cgroup is the daemon's control group ([resources]). A supervised daemon
// gets one whenever one can be made, limits or not; an in-place launch
// only when the spec has [resources].
type Cgroup struct {
	Path      string // relative to the hierarchy's root, "daemonbox/web"; "" for none
	V2        bool
	Base      string // where Path was put: "" (the root), or daemonbox's own delegated cgroup
	Delegated bool   // Base is daemonbox's own cgroup, handed to it by systemd
	None      string // why there is none, for explain
	Set       bool   // the spec has [resources]
	Limits    cgroup.Limits
	MemoryMax string // memory_max as written, for the supervisor's OOM message
	// Spec is the spec file's absolute path: an in-place run records it as
	// the cgroup's owner, and stop and status act on a cgroup that no
	// supervisor answers for only when the record names it.
	Spec string
}

// NamespaceEndsAll says that a supervised run of p makes no cgroup: it
// sets no [resources] and has no pidfile (a foreground run, which no
// command can reach), and its daemon has a PID namespace. What the cgroup
// would be for, ending everything the daemon started, the namespace does:
// the end of its PID 1 kills all in it. Making and removing the cgroup
// would be some 2 ms of the launch.
func (p *Plan) NamespaceEndsAll() bool {
	return !p.Cgroup.Set && p.Pidfile == "" && p.PIDNS
}

// CgroupBase is where this host lets daemonbox make cgroups.
type CgroupBase struct {
	V2        bool
	Base      string // relative to the root: "" for the root itself
	Delegated bool
	None      string // why there is none for this user; "" when Base is usable
}

// liveCgroupBase finds where daemonbox may make cgroups. Under systemd with
// a delegated cgroup (Delegate=yes, or a user's user@.service on v2), in
// daemonbox's own; else at the hierarchy's root, for root. An unprivileged
// user has no other place: v1 delegates nothing to users.
func liveCgroupBase(euid uint32) CgroupBase {
	if !cgroup.V2() {
		if euid != 0 {
			return CgroupBase{None: "cgroup v1 has no subtree delegated to an unprivileged user"}
		}
		return CgroupBase{}
	}
	own, err := cgroup.Own()
	switch {
	case err == nil && own != "" && cgroup.Delegated(own):
		return CgroupBase{V2: true, Base: own, Delegated: true}
	case euid == 0:
		return CgroupBase{V2: true}
	case err != nil:
		return CgroupBase{V2: true, None: err.Error()}
	}
	return CgroupBase{V2: true, None: fmt.Sprintf("daemonbox's cgroup /%s is not delegated to uid %d (run it from a systemd user service with Delegate=yes, or under systemd-run --user -p Delegate=yes)", own, euid)}
}

// cgroup resolves the daemon's cgroup: "<parent>/<name>" under the base.
// [resources] where no cgroup can be made is an error; without it, the
// daemon simply has none.
func (r *resolver) cgroup(p *Plan) {
	res := r.s.Resources
	c := &p.Cgroup
	c.Set, c.Limits, c.Spec = res.Set, limits(res), specPath(r.s.File)
	if res.MemoryMax != nil {
		c.MemoryMax = spec.FormatLimit(unix.RLIMIT_AS, *res.MemoryMax) // a size in bytes, as rlimits write one
	}
	base := CgroupBase{None: "this host's cgroups are not known"}
	if r.h.Cgroups != nil {
		base = r.h.Cgroups()
	}
	c.V2, c.Base, c.Delegated, c.None = base.V2, base.Base, base.Delegated, base.None
	if base.None != "" {
		if res.Set {
			r.fail("resources", "no cgroup can be made for this daemon: %s", base.None)
		}
		return
	}
	parent := res.Parent
	if parent == "" {
		parent = spec.DefaultCgroupParent
	}
	c.Path = path.Join(base.Base, parent, p.Name)
	if p.Name == "" || p.Name == "." || p.Name == ".." {
		r.fail("name", "%q cannot name a cgroup", p.Name)
	}
	if res.Set && p.HostUID() == 0 && p.Unshare&unix.CLONE_NEWNS == 0 {
		r.fail("resources", "a daemon that runs as the host's uid 0 owns its cgroup's files, and could lift its limits or move out; set namespaces.mount = true (its /sys is then read-only) or give it another user")
	}
	if reservedCgroupName(p.Name) {
		r.fail("name", "%q cannot name a cgroup: it is the name of a cgroup file", p.Name)
	}
	if !base.V2 && res.MemorySwapMax != nil && res.MemoryMax == nil {
		r.fail("resources.memory_swap_max", "needs memory_max on cgroup v1, whose limit is memory plus swap")
	}
}

// specPath is the spec file's absolute path, symlinks resolved, so that
// two names of one file name one owner; "" when the spec was not read from
// a file.
func specPath(file string) string {
	if file == "" {
		return ""
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return file
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		return resolved
	}
	return abs
}

func limits(res spec.Resources) cgroup.Limits {
	return cgroup.Limits{
		MemoryMax: res.MemoryMax, MemorySwapMax: res.MemorySwapMax, PidsMax: res.PidsMax,
		CPUQuota: res.CPUQuota, CPUPeriod: spec.CPUPeriod, CPUWeight: res.CPUWeight, IOWeight: res.IOWeight,
	}
}

// reservedCgroupName reports whether name is, or looks like, a file of a
// cgroup directory ("tasks", "cgroup.procs", "memory.max"), which mkdir
// there cannot make.
func reservedCgroupName(name string) bool {
	switch name {
	case "tasks", "notify_on_release", "release_agent":
		return true
	}
	prefix, _, dotted := strings.Cut(name, ".")
	if !dotted {
		return false
	}
	switch prefix {
	case "cgroup", "memory", "pids", "cpu", "cpuacct", "cpuset", "blkio", "io", "freezer", "devices",
		"net_cls", "net_prio", "hugetlb", "perf_event", "rdma", "misc":
		return true
	}
	return false
}
