package sandbox

import (
	"errors"
	"os"
	"path"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The mount steps use the kernel's fd-based mount API (open_tree,
// move_mount, fsopen, fsmount, mount_setattr): every target is opened
// inside the root with openat2(RESOLVE_IN_ROOT), so a symlink planted in a
// hostile root resolves inside it and cannot redirect a mount onto the
// host, and the mount lands on the very directory that was checked (runc
// CVE-2021-30465). Sources of binds are host paths, from the spec.

// mounts prepares the root in the new mount namespace: "/" made private
// first, so that nothing propagates back to the host (P16), then a clone
// of the root with the plan's mounts in it, for the root step to pivot into.
func (l *launch) mounts() error {
	if l.plan.Unshare&unix.CLONE_NEWNS == 0 {
		return nil
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return OpError("mount --make-rprivate", "/", err)
	}
	// The root as it is before any mount: in-root binds are taken from it.
	orig, err := unix.Open(l.plan.Root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return OpError("open", l.plan.Root, err)
	}
	defer unix.Close(orig)
	root, err := cloneRoot(l.plan.Root)
	if err != nil {
		return err
	}
	l.newRoot = root
	ms := &mountSet{root: root, orig: orig, pidns: -1}
	if l.one != nil {
		ms.pidns = l.one.pidns
	}
	if err := ms.makeTargets(l.plan.Mounts); err != nil {
		return err
	}
	for _, m := range l.plan.Mounts {
		if err := ms.apply(m); err != nil {
			return err
		}
	}
	return nil
}

// Mount is one mount the launch makes inside the root, in plan order.
type Mount struct {
	Kind     MountKind
	Source   string // a host path, for a bind
	Target   string // a path inside the root
	Readonly bool   // bind: made read-only once every mount is in place
	Optional bool   // a missing target is skipped, not an error
	// InRoot: a bind of the root's own Target over itself, resolved inside
	// the root as it stood before any mount (filesystem.writable, and
	// [directories] under "/"): it keeps the host's mount flags, so it is
	// writable under a read-only root. Source is the host path, for
	// messages and exports.
	InRoot bool
}

// MountKind says what a Mount makes.
type MountKind string

// The mount kinds.
const (
	MountBind     MountKind = "bind"     // a host path, recursively
	MountTmpfs    MountKind = "tmpfs"    // a fresh tmpfs
	MountProc     MountKind = "proc"     // the PID namespace's own /proc
	MountDev      MountKind = "dev"      // a minimal private /dev
	MountReadonly MountKind = "readonly" // the path and everything under it made read-only
	MountMasked   MountKind = "masked"   // an empty read-only directory or file over the path
)

// mountSet is the launch's mounting state: the root being prepared.
type mountSet struct {
	root  int // the root's clone, attached over the root path
	orig  int // the root as it was before the clone; -1 where unknown
	pidns int // the PID namespace /proc shows, when it is not the mounter's own (the one-image launch); else -1
}

// procOpts names the PID namespace a /proc mount shows: fsconfig's
// "pidns" takes an fd, which newFS passes as such.
func (ms *mountSet) procOpts() map[string]string {
	if ms.pidns < 0 {
		return nil
	}
	return map[string]string{pidnsOption: strconv.Itoa(ms.pidns)}
}

// cloneRoot stacks a recursive private copy of the root over the root path:
// a mount of its own, as pivot_root needs, which the plan's mounts go into.
func cloneRoot(root string) (int, error) {
	tree, err := unix.OpenTree(unix.AT_FDCWD, root, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE)
	if err != nil {
		return -1, OpError("open_tree", root, err)
	}
	if err := unix.MoveMount(tree, "", unix.AT_FDCWD, root, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		unix.Close(tree)
		return -1, OpError("move_mount", root, err)
	}
	return int(tree), nil
}

// PrepareMountPoints creates the missing mount points of a privileged launch
// into a user namespace, with the supervisor's privilege: there the init
// stage acts as the daemon's ids, which may not write the root's
// directories. They are resolved inside the root, as the stage would.
func PrepareMountPoints(p *Launch) error {
	if !p.UserNS || p.Rootless || p.Unshare&unix.CLONE_NEWNS == 0 {
		return nil
	}
	return makeMountPoints(p)
}

// makeTargets creates the missing targets of daemonbox's own mounts in the
// root's files before any of them is made read-only; targets inside
// another of daemonbox's mounts are made when that mount is there.
func (ms *mountSet) makeTargets(mounts []Mount) error {
	var own []Mount
	for _, m := range mounts {
		switch m.Kind {
		case MountBind, MountTmpfs, MountProc, MountDev:
			own = append(own, m)
		}
	}
	for i, m := range own {
		if under(m.Target, own[:i]) {
			continue
		}
		dir := true
		if m.Kind == MountBind && !m.InRoot { // an in-root bind's target is its source: it exists
			fi, err := os.Stat(m.Source)
			if err != nil {
				return OpError("stat", m.Source, err)
			}
			dir = fi.IsDir()
		}
		t, err := ms.open(m.Target, true, dir)
		if err != nil {
			return err
		}
		unix.Close(t)
	}
	return nil
}

func (ms *mountSet) apply(m Mount) error {
	switch m.Kind {
	case MountBind:
		return ms.bind(m)
	case MountTmpfs:
		return ms.fresh(m.Target, "tmpfs", map[string]string{"mode": "1777"}, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV)
	case MountProc:
		return ms.fresh(m.Target, "proc", ms.procOpts(), unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	case MountDev:
		return ms.dev(m.Target)
	case MountReadonly:
		return ms.readonly(m)
	case MountMasked:
		return ms.mask(m)
	}
	return errors.New("unknown mount kind " + string(m.Kind))
}

// bind mounts a host path recursively, nosuid; nodev too unless the source
// is a device or other non-directory that is bound for its own sake.
func (ms *mountSet) bind(m Mount) error {
	if m.InRoot {
		return ms.bindInRoot(m.Target)
	}
	return ms.bindHost(m.Source, m.Target, true, true, func(dir bool) uint64 {
		if dir {
			return unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV
		}
		return unix.MOUNT_ATTR_NOSUID
	})
}

// bindHost clones a host path (recursively or not), sets attrs on the
// clone before it is attached (attrs is told whether it is a directory),
// and attaches it at target inside the root, created if create allows.
func (ms *mountSet) bindHost(host, target string, recursive, create bool, attrs func(dir bool) uint64) error {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if recursive {
		flags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, host, flags)
	if err != nil {
		return OpError("open_tree", host, err)
	}
	defer unix.Close(tree)
	dir := isDir(tree)
	if err := setattr(tree, attrs(dir), host+" for "+target); err != nil {
		return err
	}
	return ms.attach(tree, target, create, dir)
}

// bindInRoot clones target, resolved inside the root as it was before the
// mounts, with its own flags, and attaches it over the same path: what
// the root's read-only mounts did to the clone does not reach it.
func (ms *mountSet) bindInRoot(target string) error {
	src, err := openInRoot(ms.orig, target)
	if err != nil {
		return err
	}
	defer unix.Close(src)
	tree, err := unix.OpenTree(src, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_EMPTY_PATH)
	if err != nil {
		return OpError("open_tree", target+" inside the root", err)
	}
	defer unix.Close(tree)
	return ms.attach(tree, target, false, isDir(tree))
}

func always(attr uint64) func(bool) uint64 { return func(bool) uint64 { return attr } }

// fresh mounts a new filesystem instance of type fstype on target.
func (ms *mountSet) fresh(target, fstype string, opts map[string]string, attr int) error {
	mnt, err := newFS(fstype, opts, attr)
	if err != nil {
		return err
	}
	defer unix.Close(mnt)
	return ms.attach(mnt, target, true, true)
}

func newFS(fstype string, opts map[string]string, attr int) (int, error) {
	fs, err := unix.Fsopen(fstype, unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, OpError("fsopen", fstype, err)
	}
	defer unix.Close(fs)
	for k, v := range opts {
		if k == pidnsOption {
			if err := setPidns(fs, v); err != nil {
				return -1, err
			}
			continue
		}
		if err := unix.FsconfigSetString(fs, k, v); err != nil {
			return -1, OpError("fsconfig", fstype+" "+k+"="+v, err)
		}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1, OpError("fsconfig create", fstype, err)
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, attr)
	if err != nil {
		return -1, OpError("fsmount", fstype, err)
	}
	return mnt, nil
}

// attach moves a detached mount onto target inside the root, creating the
// target (a directory, or an empty file) if create allows it.
func (ms *mountSet) attach(mnt int, target string, create, dir bool) error {
	t, err := ms.open(target, create, dir)
	if err != nil {
		return err
	}
	defer unix.Close(t)
	if err := unix.MoveMount(mnt, "", t, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return OpError("move_mount", target, err)
	}
	return nil
}

// readonly makes target and every mount under it read-only: the target
// itself when it is a mount's root, else a recursive bind of it over itself.
func (ms *mountSet) readonly(m Mount) error {
	t, err := ms.open(m.Target, false, false)
	if m.Optional && errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(t)
	if isMountRoot(t) {
		return setattr(t, unix.MOUNT_ATTR_RDONLY, m.Target)
	}
	tree, err := unix.OpenTree(t, "", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC|unix.AT_RECURSIVE|unix.AT_EMPTY_PATH)
	if err != nil {
		return OpError("open_tree", m.Target, err)
	}
	defer unix.Close(tree)
	if err := setattr(tree, unix.MOUNT_ATTR_RDONLY, m.Target); err != nil {
		return err
	}
	if err := unix.MoveMount(tree, "", t, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return OpError("move_mount", m.Target, err)
	}
	return nil
}

// mask hides target under something empty and read-only: a tmpfs with
// mode 000 for a directory; for anything else, the host's /dev/null, read
// only, as runc does (a file cannot be cloned out of a detached tmpfs): it
// reads empty and keeps nothing written to it.
func (ms *mountSet) mask(m Mount) error {
	t, err := ms.open(m.Target, false, false)
	if errors.Is(err, unix.ENOENT) {
		return nil // nothing there to hide
	}
	if err != nil {
		return err
	}
	dir := isDir(t)
	unix.Close(t)
	const hidden = unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC
	if dir {
		return ms.fresh(m.Target, "tmpfs", map[string]string{"mode": "000", "size": "4k"}, hidden)
	}
	return ms.bindHost("/dev/null", m.Target, false, false, always(unix.MOUNT_ATTR_RDONLY|unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC))
}

// open opens path inside the root (O_PATH), creating it and its missing
// parents when create is set: directories, and the last an empty file
// unless dir.
func (ms *mountSet) open(p string, create, dir bool) (int, error) {
	fd, err := openInRoot(ms.root, p)
	if err == nil || !create || !errors.Is(err, unix.ENOENT) {
		return fd, err
	}
	parent, err := ms.mkdirAll(path.Dir(p))
	if err != nil {
		return -1, err
	}
	defer unix.Close(parent)
	base := path.Base(p)
	if dir {
		err = unix.Mkdirat(parent, base, 0o755)
	} else {
		var f int
		f, err = unix.Openat(parent, base, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		if err == nil {
			unix.Close(f)
		}
	}
	if err != nil && err != unix.EEXIST {
		return -1, OpError("create", p+" inside the root", err)
	}
	return openInRoot(ms.root, p)
}

// mkdirAll makes p inside the root, one component at a time, each resolved
// inside the root.
func (ms *mountSet) mkdirAll(p string) (int, error) {
	dir := "/"
	fd, err := openInRoot(ms.root, dir)
	for _, name := range strings.Split(strings.Trim(p, "/"), "/") {
		if err != nil || name == "" {
			break
		}
		err = unix.Mkdirat(fd, name, 0o755)
		unix.Close(fd)
		if err != nil && err != unix.EEXIST {
			return -1, OpError("mkdir", path.Join(dir, name)+" inside the root", err)
		}
		dir = path.Join(dir, name)
		fd, err = openInRoot(ms.root, dir)
	}
	return fd, err
}

// openInRoot resolves p as if the root were "/": "..", absolute symlinks
// and all stay inside it; magic links (/proc/PID/fd) are refused.
func openInRoot(root int, p string) (int, error) {
	how := &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	fd, err := unix.Openat2(root, p, how)
	if err != nil {
		return -1, OpError("openat2", p+" inside the root", err)
	}
	return fd, nil
}

func setattr(fd int, attr uint64, what string) error {
	a := &unix.MountAttr{Attr_set: attr}
	if err := unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH|unix.AT_RECURSIVE, a); err != nil {
		return OpError("mount_setattr", what, err)
	}
	return nil
}

func isDir(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
}

func isMountRoot(fd int) bool {
	var stx unix.Statx_t
	err := unix.Statx(fd, "", unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW, 0, &stx)
	return err == nil && stx.Attributes&unix.STATX_ATTR_MOUNT_ROOT != 0
}

// devNodes are the host devices a private /dev gets, bound, since a user
// namespace may not mknod (bubblewrap's --dev set).
var devNodes = []string{"null", "zero", "full", "random", "urandom", "tty"}

// dev makes a minimal private /dev at target: a tmpfs with the usual
// devices, a private devpts instance, /dev/shm, and the standard links. The
// tmpfs is then made read-only (pts and shm stay writable): in a user
// namespace it belongs to the daemon's uid, which could otherwise fill it
// or plant names in it.
func (ms *mountSet) dev(target string) error {
	if err := ms.fresh(target, "tmpfs", map[string]string{"mode": "0755", "size": "64k"}, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC); err != nil {
		return err
	}
	dev, err := ms.open(target, false, true)
	if err != nil {
		return err
	}
	defer unix.Close(dev)
	// The tmpfs is new, empty and seen by this thread alone: its names are
	// made and reached from dev, one component each, with no lookup
	// through the root (about 40 system calls fewer than ms.open's).
	for _, name := range devNodes {
		if err := devNode(dev, target, name); err != nil {
			return err
		}
	}
	if err := devFS(dev, target, "pts", "devpts", map[string]string{"ptmxmode": "0666", "mode": "0620"}, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC); err != nil {
		return err
	}
	if err := devFS(dev, target, "shm", "tmpfs", map[string]string{"mode": "1777"}, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV); err != nil {
		return err
	}
	links := [][2]string{{"pts/ptmx", "ptmx"}, {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"},
		{"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}}
	for _, l := range links {
		if err := unix.Symlinkat(l[0], dev, l[1]); err != nil {
			return OpError("symlink", path.Join(target, l[1]), err)
		}
	}
	if err := unix.MountSetattr(dev, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}); err != nil {
		return OpError("mount_setattr", target, err)
	}
	return nil
}

// devNode binds the host's /dev/NAME, nosuid and noexec, on an empty file
// made in the new /dev.
func devNode(dev int, target, name string) error {
	tree, err := unix.OpenTree(unix.AT_FDCWD, "/dev/"+name, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		return OpError("open_tree", "/dev/"+name, err)
	}
	defer unix.Close(tree)
	if err := setattr(tree, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NOEXEC, "/dev/"+name+" for "+path.Join(target, name)); err != nil {
		return err
	}
	f, err := unix.Openat(dev, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return OpError("create", path.Join(target, name)+" inside the root", err)
	}
	unix.Close(f)
	return moveInto(tree, dev, target, name)
}

// devFS mounts a new filesystem on a directory made in the new /dev.
func devFS(dev int, target, name, fstype string, opts map[string]string, attr int) error {
	if err := unix.Mkdirat(dev, name, 0o755); err != nil {
		return OpError("mkdir", path.Join(target, name)+" inside the root", err)
	}
	mnt, err := newFS(fstype, opts, attr)
	if err != nil {
		return err
	}
	defer unix.Close(mnt)
	return moveInto(mnt, dev, target, name)
}

// moveInto attaches a detached mount on name in dir.
func moveInto(mnt, dir int, target, name string) error {
	if err := unix.MoveMount(mnt, "", dir, name, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return OpError("move_mount", path.Join(target, name), err)
	}
	return nil
}
