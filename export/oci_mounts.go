package export

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/daemonbox/daemonbox/hostpath"
	"github.com/daemonbox/daemonbox/sandbox"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// ociFS is the config's file system: OCI's three lists and the root's
// read-only flag. rootAlone: that flag is all that makes a read-only
// chroot read-only (rootAlone).
type ociFS struct {
	mounts            []specs.Mount
	readonly, masked  []string
	rootRO, rootAlone bool
}

// ociMounts turns the plan's mounts into OCI's three lists. A runtime makes
// config mounts in order, then read-only paths, then masked ones, and its
// read-only paths and root.readonly are not recursive (runc 1.1 remounts the
// top mount only). daemonbox's read-only paths are recursive, so those in
// the root's own files become recursive read-only binds ("rro") in order,
// as daemonbox makes them (rootReadonly); those inside daemonbox's own
// mounts (and the hardening of /proc) stay readonlyPaths, which runc
// applies after every mount.
func ociMounts(p *sandbox.Plan) (ociFS, error) {
	fs := ociFS{rootAlone: rootAlone(p)}
	if !hasMount(p, sandbox.MountDev) {
		// First, so that a read-only root's bind covers it as daemonbox's
		// covers the root's /dev; it is there for runc to see.
		fs.mounts = append(fs.mounts, rootDev(p.Root))
	}
	if p.Root == "/" && !hasReadonly(p, "/") {
		fs.mounts = append(fs.mounts, hostRoot(false))
	}
	own := false
	for _, m := range p.Mounts {
		var err error
		switch m.Kind {
		case sandbox.MountReadonly:
			err = fs.addReadonly(p, m, own)
		case sandbox.MountMasked:
			fs.masked = append(fs.masked, m.Target)
		default:
			own = true
			err = fs.addOwn(p, m)
		}
		if err != nil {
			return fs, err
		}
	}
	// daemonbox's private /dev, filled by the runtime first; or the root's
	// own /dev (or its stand-in tmpfs) under root.readonly alone, which
	// does not reach that mount, where daemonbox's read-only root covers it.
	if hasMount(p, sandbox.MountDev) || fs.rootAlone && !ownMountOn(p, "/dev") {
		fs.readonly = append(fs.readonly, "/dev")
	}
	if needsProc(p) {
		fs.mounts = append(fs.mounts, ownMount(p.Root, sandbox.Mount{Kind: sandbox.MountProc, Target: "/proc"})...)
		ro, mask := sandbox.ProcHardening()
		fs.readonly, fs.masked = append(fs.readonly, ro...), append(mask, fs.masked...)
	}
	return fs, nil
}

// addReadonly adds a read-only path: the root by root.readonly, a path
// inside daemonbox's own mounts as a read-only path, one in the root's own
// files as rootReadonly says. own: daemonbox's own mounts have begun.
func (fs *ociFS) addReadonly(p *sandbox.Plan, m sandbox.Mount, own bool) error {
	if m.Target == "/" {
		fs.rootRO = true
		if fs.rootAlone {
			return nil // root.readonly is the whole of it
		}
	}
	switch {
	case boundReadonly(p, m.Target):
		return nil // the bind carries "rro" itself
	case own:
		fs.readonly = append(fs.readonly, m.Target)
		return nil
	}
	return fs.rootReadonly(p.Root, m)
}

// addOwn adds one of daemonbox's own mounts. A bind of a host path under a
// chroot's read-only path is read-only, as daemonbox's clone of it is; a
// writable path's source is resolved inside the root (sourceInRoot).
func (fs *ociFS) addOwn(p *sandbox.Plan, m sandbox.Mount) error {
	if m.Kind == sandbox.MountBind && !m.InRoot && underRootReadonly(p, m.Source) {
		m.Readonly = true
	}
	if m.InRoot {
		host, err := fs.sourceInRoot(p.Root, m.Target)
		if err != nil {
			return err
		}
		m.Source = host
	}
	fs.mounts = append(fs.mounts, ownMount(p.Root, m)...)
	return nil
}

// sourceInRoot is the host path of a chroot's own path, resolved inside the
// root as daemonbox resolves it, for a mount's source. The runtime resolves
// a source on the host when it makes the mount, after the config's earlier
// mounts are in place under the root: one that leads below one of them (a
// writable path through a symlink into a bind of the spec's) would be taken
// through that mount, from wherever it leads, where daemonbox takes the
// root's own files. The config cannot say that, so the export refuses it.
// A bind of a path onto itself (the root's /dev, a writable path) leads
// to the same files and does not count.
func (fs *ociFS) sourceInRoot(root, target string) (string, error) {
	host, err := inRoot(root, target)
	if err != nil || root == "/" {
		return host, err
	}
	for _, m := range fs.mounts {
		if m.Destination == "/" {
			continue
		}
		dest, err := inRoot(root, m.Destination)
		if err != nil {
			dest = filepath.Join(root, m.Destination)
		}
		if hostpath.Within(host, dest) && !(m.Type == "bind" && m.Source == dest) {
			return "", fmt.Errorf("export: %s leads inside the root %s to %s, below the config's mount on %s, through which a runtime would take it: an OCI config cannot carry it",
				target, root, strings.TrimPrefix(host, root), m.Destination)
		}
	}
	return host, nil
}

// OCIMountPoints makes the mount points the config needs inside the root,
// resolved there, before a runtime would have to: the plan's, and those of
// the /proc and /dev the config adds for the runtime's sake. A runtime
// cannot make them under a read-only root, and would make them in the
// root's files on the host otherwise.
func OCIMountPoints(p *sandbox.Plan) error {
	l := p.Launch
	l.Unshare |= unix.CLONE_NEWNS // an OCI runtime always makes a mount namespace
	l.Mounts = slices.Clone(l.Mounts)
	if needsProc(p) {
		l.Mounts = append(l.Mounts, sandbox.Mount{Kind: sandbox.MountProc, Target: "/proc"})
	}
	if p.Root != "/" && !hasMount(p, sandbox.MountDev) {
		l.Mounts = append(l.Mounts, sandbox.Mount{Kind: sandbox.MountTmpfs, Target: "/dev"})
	}
	return sandbox.MakeMountPoints(&l)
}

// ownMountOn reports whether one of the spec's own mounts (a bind or a
// tmpfs) is on target, over what the config mounts there for the runtime.
func ownMountOn(p *sandbox.Plan, target string) bool {
	return slices.ContainsFunc(p.Mounts, func(m sandbox.Mount) bool {
		return (m.Kind == sandbox.MountBind || m.Kind == sandbox.MountTmpfs) && m.Target == target
	})
}

// inRoot is the host's path of target inside a chroot, resolved there as
// daemonbox resolves it: a runtime resolves a mount's source on the host,
// where a symlink of the root's (var/run -> /run) leads out of it.
func inRoot(root, target string) (string, error) {
	if root == "/" {
		return target, nil
	}
	host, ok := sandbox.HostPathInRoot(root, target)
	if !ok {
		return "", fmt.Errorf("export: %s does not lead to a file inside the root %s", target, root)
	}
	return host, nil
}

// hostPath is a host path with its symlinks resolved, as the kernel
// follows them for a bind's source, or the path itself if it cannot be.
func hostPath(p string) string {
	if real, err := filepath.EvalSymlinks(p); err == nil {
		return real
	}
	return p
}

// underRootReadonly reports whether a bind's host source lies under a
// read-only path of a chroot's own files: daemonbox makes those before its
// own mounts, on the chroot's mounts in its namespace, and clones the
// source through them, so the bind is read-only whatever it says. A
// runtime binds the host's path, untouched. (The host's root is made
// read-only in a clone that host paths do not pass through.)
func underRootReadonly(p *sandbox.Plan, source string) bool {
	if p.Root == "/" {
		return false
	}
	source = hostPath(source)
	for _, m := range p.Mounts {
		if m.Kind != sandbox.MountReadonly {
			return false // daemonbox's own mounts begin: later read-only paths come after the binds
		}
		if dir, err := inRoot(p.Root, m.Target); err == nil && hostpath.Within(source, dir) {
			return true
		}
	}
	return false
}

// needsProc reports whether the config must mount a /proc that the launch
// does not: runc reads /proc/self/fd in the root before the exec, so a
// chroot without a PID namespace, which daemonbox leaves without /proc,
// gets a PID namespace and its /proc, hardened as daemonbox hardens its
// own (ociNamespaces). Not the host PID namespace's: through
// /proc/PID/root the daemon could reach the files of any process of its
// uid outside the chroot. ociNotCarried says so.
func needsProc(p *sandbox.Plan) bool {
	return p.Root != "/" && !hasMount(p, sandbox.MountProc)
}

// rootAlone reports whether a read-only chroot is made read-only by
// root.readonly alone. A runtime's root.readonly remounts the root's top
// mount only (runc 1.1), so a chroot with mounts inside keeps the
// recursive read-only bind of itself on "/"; one without, nearly every
// chroot, takes root.readonly alone, which every runtime can run: crun
// before 1.22 cannot make a mount on "/" (containers/crun#1753; Debian 12
// has 1.8.1). A mount made under the root after the export, or one that
// the export's mount namespace does not show, stays writable under such a
// config; its annotation says so (OCI).
func rootAlone(p *sandbox.Plan) bool {
	return p.Root != "/" && hasReadonly(p, "/") && !hasSubmounts(p.Root) && !bindsAbove(p)
}

// bindsAbove reports whether one of the spec's binds holds the root in its
// source (a bind of /srv for a root /srv/jail): daemonbox's clone of it
// carries the read-only root inside it, and root.readonly, which makes the
// runtime's root alone read-only, would leave that copy writable.
func bindsAbove(p *sandbox.Plan) bool {
	return slices.ContainsFunc(p.Mounts, func(m sandbox.Mount) bool {
		return m.Kind == sandbox.MountBind && !m.InRoot && hostpath.Within(p.Root, hostPath(m.Source))
	})
}

// hasSubmounts reports whether anything is mounted below root on this
// host, or cannot tell.
func hasSubmounts(root string) bool {
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return true
	}
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return true
	}
	return mountedBelow(string(info), real)
}

// mountedBelow reports whether a mount point in mountinfo lies strictly
// below dir. Mount points are the fifth field, with space, tab, newline
// and backslash escaped in octal.
func mountedBelow(mountinfo, dir string) bool {
	dir = filepath.Clean(dir)
	for line := range strings.Lines(mountinfo) {
		f := strings.Fields(line)
		if len(f) > 4 {
			if mp := unescapeMountinfo(f[4]); mp != dir && hostpath.Within(mp, dir) {
				return true
			}
		}
	}
	return false
}

func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// rootReadonly makes a path of the root's own files read-only with
// everything under it: a recursive read-only bind of itself ("rro"), its
// source resolved inside the root now. (As a read-only path the runtime
// would resolve it inside the container, but after the config's mounts
// and, for crun, with masks and nested read-only paths in another order:
// helper-40 found both more open than daemonbox. A source is resolved on
// the host again at each start instead; the README says what that means.)
// An optional path (the root's /sys) that is missing is skipped, as
// daemonbox skips it.
func (fs *ociFS) rootReadonly(root string, m sandbox.Mount) error {
	if root == "/" && m.Target == "/" {
		fs.mounts = append(fs.mounts, hostRoot(true))
		return nil
	}
	if _, err := inRoot(root, m.Target); err != nil && m.Optional {
		return nil
	}
	host, err := fs.sourceInRoot(root, m.Target)
	if err != nil {
		return err
	}
	fs.mounts = append(fs.mounts, specs.Mount{Destination: m.Target, Type: "bind", Source: host,
		Options: []string{"rbind", "rro"}})
	return nil
}

// ownMount is one of daemonbox's own mounts, with the same options.
func ownMount(root string, m sandbox.Mount) []specs.Mount {
	switch m.Kind {
	case sandbox.MountBind:
		if m.InRoot { // the root's own path with its own flags: writable under a read-only root
			return []specs.Mount{{Destination: m.Target, Type: "bind", Source: m.Source, Options: []string{"rbind", "rw"}}}
		}
		opts := []string{"rbind", "nosuid"}
		if fi, err := os.Stat(m.Source); err != nil || fi.IsDir() {
			opts = append(opts, "nodev")
		}
		if m.Readonly {
			opts = append(opts, "rro")
		}
		return []specs.Mount{{Destination: m.Target, Type: "bind", Source: m.Source, Options: opts}}
	case sandbox.MountTmpfs:
		return []specs.Mount{{Destination: m.Target, Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "nodev", "mode=1777"}}}
	case sandbox.MountProc:
		return []specs.Mount{{Destination: m.Target, Type: "proc", Source: "proc",
			Options: []string{"nosuid", "noexec", "nodev"}}}
	case sandbox.MountDev:
		return devMounts(m.Target)
	}
	return nil
}

// devMounts are daemonbox's private /dev: a small tmpfs, in which the
// runtime makes the same six devices (null, zero, full, random, urandom,
// tty) and links daemonbox does, a private devpts and /dev/shm. The tmpfs
// is made read-only by readonlyPaths, after the runtime has filled it.
func devMounts(target string) []specs.Mount {
	return []specs.Mount{
		{Destination: target, Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "noexec", "mode=755", "size=64k"}},
		{Destination: path.Join(target, "pts"), Type: "devpts", Source: "devpts",
			Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
		{Destination: path.Join(target, "shm"), Type: "tmpfs", Source: "shm",
			Options: []string{"nosuid", "nodev", "mode=1777"}},
	}
}

// rootDev keeps the root's own /dev, as daemonbox does without a private
// one: a bind of it. Without a /dev mount, runc fills the root's /dev
// itself, in the root's files: it makes device nodes there and replaces
// /dev/ptmx with a link, which with root "/" would be the host's. A root
// whose /dev is missing or empty gets a tmpfs for the runtime to fill
// instead: runc needs /dev/null (ociNotCarried says so).
func rootDev(root string) specs.Mount {
	if rootDevEmpty(root) {
		return specs.Mount{Destination: "/dev", Type: "tmpfs", Source: "tmpfs",
			Options: []string{"nosuid", "noexec", "mode=755", "size=64k"}}
	}
	host, _ := inRoot(root, "/dev")
	return specs.Mount{Destination: "/dev", Type: "bind", Source: host, Options: []string{"rbind"}}
}

// rootDevEmpty reports whether the root's /dev, resolved inside it, is
// missing or empty.
func rootDevEmpty(root string) bool {
	host, err := inRoot(root, "/dev")
	if err != nil {
		return true
	}
	entries, err := os.ReadDir(host)
	return err != nil || len(entries) == 0
}

// OCIHostRoot is root.path for a spec whose root is the host's "/": an
// empty directory of the bundle, over which the config's first mount binds
// "/". runc cannot take "/" itself as the root: its pivot_root fails with
// EBUSY.
const OCIHostRoot = "rootfs"

// hostRoot binds the host's "/" over the bundle's empty rootfs, with all
// its mounts, as daemonbox's mount namespace without a chroot sees them.
func hostRoot(readonly bool) specs.Mount {
	m := specs.Mount{Destination: "/", Type: "bind", Source: "/", Options: []string{"rbind"}}
	if readonly {
		m.Options = append(m.Options, "rro")
	}
	return m
}

func hasReadonly(p *sandbox.Plan, target string) bool {
	for _, m := range p.Mounts {
		if m.Kind == sandbox.MountReadonly && m.Target == target {
			return true
		}
	}
	return false
}

// boundReadonly reports whether target is a read-only bind's, whose mount
// says "rro" itself.
func boundReadonly(p *sandbox.Plan, target string) bool {
	for _, m := range p.Mounts {
		if m.Kind == sandbox.MountBind && m.Readonly && m.Target == target {
			return true
		}
	}
	return false
}

func hasMount(p *sandbox.Plan, kind sandbox.MountKind) bool {
	for _, m := range p.Mounts {
		if m.Kind == kind {
			return true
		}
	}
	return false
}
