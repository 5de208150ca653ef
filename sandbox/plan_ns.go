package sandbox

import (
	"os"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/daemonbox/daemonbox/hostpath"
	"golang.org/x/sys/unix"
)

// procReadonly and procMasked harden a fresh /proc as runc does: a daemon
// running as uid 0 without capabilities could otherwise write kernel
// tunables (core_pattern, sysrq-trigger, binfmt_misc) or read kernel memory.
var (
	procReadonly = []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}
	procMasked   = []string{"/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
		"/proc/sched_debug", "/proc/scsi", "/proc/timer_list", "/proc/timer_stats"}
)

// sysReadonly and sysMasked harden the root's /sys, the host's own when the
// root is "/": sysfs files are root's, so a daemon running as uid 0 without
// capabilities could otherwise write kernel settings (power state,
// transparent huge pages, module parameters) and create files on the
// cgroup tmpfs. Firmware tables and power-capping energy counters (a side
// channel) are hidden, as runc does.
var (
	sysReadonly = "/sys"
	sysMasked   = []string{"/sys/firmware", "/sys/devices/virtual/powercap"}
)

// namespaces resolves [namespaces] and the mounts of [filesystem].
func (r *resolver) namespaces(p *Plan) {
	n := r.s.Namespaces
	flags := []struct {
		on   bool
		flag uintptr
	}{
		{n.Mount, unix.CLONE_NEWNS}, {n.Network, unix.CLONE_NEWNET}, {n.IPC, unix.CLONE_NEWIPC},
		{n.UTS, unix.CLONE_NEWUTS}, {n.Cgroup, unix.CLONE_NEWCGROUP},
	}
	for _, f := range flags {
		if f.on {
			p.Unshare |= f.flag
		}
	}
	p.PIDNS, p.Init, p.Hostname = n.PID, n.PID && !n.NoInit, n.Hostname
	if n.Mount {
		p.Mounts = r.mounts(n.PID, p.Directories)
	}
}

// mounts lays out the mounts in the order they are made:
//
//  1. readonly paths in the root's own files, recursively (the root's /sys
//     among them);
//  2. daemonbox's own mounts (binds, tmpfs, /proc, /dev), parents first, so
//     that they keep their own mode under a read-only root;
//  3. read-only binds, readonly paths inside daemonbox's mounts, and the
//     hardening of /proc;
//  4. masked paths.
func (r *resolver) mounts(pidns bool, dirs []Directory) []Mount {
	own := r.ownMounts(pidns, dirs)
	early, late := r.readonly(own)
	masked := append(slices.Clone(sysMasked), r.s.Filesystem.Masked...)
	if pidns {
		masked = append(slices.Clone(procMasked), masked...)
	}
	// The list is made at its full size at once: a Mount is large, and
	// growing the list append by append faults in fresh heap pages on the
	// plan's path.
	out := make([]Mount, 0, len(early)+2*len(own)+len(late)+len(procReadonly)+len(masked))
	out = append(append(out, early...), own...)
	for _, m := range own {
		if m.Kind == MountBind && m.Readonly {
			out = append(out, Mount{Kind: MountReadonly, Target: m.Target})
		}
	}
	out = append(out, late...)
	if pidns {
		out = appendOptional(out, MountReadonly, procReadonly)
	}
	return appendOptional(out, MountMasked, masked)
}

// ownMounts are daemonbox's own mounts, parents first.
func (r *resolver) ownMounts(pidns bool, dirs []Directory) []Mount {
	f := r.s.Filesystem
	own := r.directoryMounts(dirs)
	for _, b := range f.Bind {
		own = append(own, Mount{Kind: MountBind, Source: b.Source, Target: b.Target, Readonly: b.Readonly})
	}
	for _, w := range f.Writable {
		own = append(own, Mount{Kind: MountBind, Source: path.Join(r.s.Filesystem.Root, w), Target: w, InRoot: true})
	}
	for _, t := range f.Tmpfs {
		own = append(own, Mount{Kind: MountTmpfs, Target: t})
	}
	if pidns {
		own = append(own, Mount{Kind: MountProc, Target: "/proc"})
	}
	if r.privateDev() {
		own = append(own, Mount{Kind: MountDev, Target: "/dev"})
	}
	sort.SliceStable(own, func(i, j int) bool { return depth(own[i].Target) < depth(own[j].Target) })
	return own
}

// readonly splits the readonly paths, /sys added unless "/" covers it, into
// those in the root's own files and those inside one of daemonbox's mounts.
func (r *resolver) readonly(own []Mount) (early, late []Mount) {
	readonly := r.s.Filesystem.Readonly
	if !slices.Contains(readonly, "/") && !slices.Contains(readonly, sysReadonly) {
		readonly = append(slices.Clone(readonly), sysReadonly)
	}
	for _, ro := range readonly {
		m := Mount{Kind: MountReadonly, Target: ro, Optional: ro == sysReadonly}
		if under(ro, own) {
			late = append(late, m)
		} else {
			early = append(early, m)
		}
	}
	return early, late
}

// appendOptional appends a mount of kind over each target that may be
// missing.
func appendOptional(out []Mount, kind MountKind, targets []string) []Mount {
	for _, t := range targets {
		out = append(out, Mount{Kind: kind, Target: t, Optional: true})
	}
	return out
}

// privateDev decides filesystem.dev: as set, or by default only when the
// root is not the host's and has no /dev of its own (missing or empty).
func (r *resolver) privateDev() bool {
	if d := r.s.Filesystem.Dev; d != nil {
		return *d
	}
	root := r.s.Filesystem.Root
	if root == "/" {
		return false
	}
	dev := path.Join(root, "dev")
	if fi, err := os.Lstat(dev); err != nil || !fi.IsDir() {
		return true
	}
	entries, err := os.ReadDir(dev)
	return err != nil || len(entries) == 0
}

func depth(p string) int {
	if p == "/" {
		return 0
	}
	return strings.Count(p, "/")
}

// under reports whether p is at or below the target of one of the mounts.
func under(p string, mounts []Mount) bool {
	for _, m := range mounts {
		if hostpath.Within(p, m.Target) {
			return true
		}
	}
	return false
}
