package sandbox

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/hostpath"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// StreamNames name fds 0, 1 and 2 as the spec's [fds] keys do, for messages.
var StreamNames = [3]string{"stdin", "stdout", "stderr"}

// OpenStdio opens the standard streams' files with daemonbox's privileges,
// before any step: their paths are host paths. -1 means inherit.
func OpenStdio(p *Plan) ([3]int, error) {
	fds := [3]int{-1, -1, -1}
	g := p.PathGuard()
	for i, s := range p.Stdio {
		var err error
		switch s.Kind {
		case spec.StdioNull:
			fds[i], err = unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
			if err != nil {
				err = OpError("open", "/dev/null", err)
			}
		case spec.StdioFile:
			fds[i], err = openStdioFile(s.Path, i == 0, g)
		}
		if err != nil {
			CloseAll(fds[:i])
			return fds, AtStep(StreamNames[i], err)
		}
	}
	return fds, nil
}

// openStdioFile is openFile for a launch's first open of the file, which
// records a log file it creates (see removeUnusedLogs).
func openStdioFile(path string, input bool, g *hostpath.Guard) (int, error) {
	if input {
		return openFile(path, unix.O_RDONLY, g)
	}
	fd, err := openFile(path, logFlags|unix.O_CREAT|unix.O_EXCL, g)
	if errors.Is(err, unix.EEXIST) {
		return openFile(path, logFlags, g)
	}
	var st unix.Stat_t
	if err == nil && unix.Fstat(fd, &st) == nil {
		createdLogs = append(createdLogs, createdLog{path: path, dev: st.Dev, ino: st.Ino})
	}
	return fd, err
}

// logFlags open a log file: appended to, and created 0640 with O_CREAT.
const logFlags = unix.O_WRONLY | unix.O_APPEND

// openFile opens a log or input file through directories the daemon cannot
// change (see hostpath), without following a symlink at the path, and
// refuses anything but a regular file; O_NONBLOCK keeps a FIFO planted at
// the path from hanging the open.
func openFile(path string, flags int, g *hostpath.Guard) (int, error) {
	fd, err := hostpath.OpenFile(path, flags|unix.O_NOCTTY|unix.O_NONBLOCK, 0o640, g)
	if err != nil {
		return -1, pathStepError(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, &StepError{Op: "open", Path: path, Msg: "not a regular file"}
	}
	fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
	if err == nil {
		_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_NONBLOCK)
	}
	if err != nil {
		unix.Close(fd)
		return -1, OpError("fcntl F_SETFL", path, err)
	}
	return fd, nil
}

// OpenLog opens a log file again, as a rotation asks, through directories
// the guard keeps safe.
func OpenLog(path string, g *hostpath.Guard) (int, error) {
	return openFile(path, logFlags|unix.O_CREAT, g)
}

// CloseAll closes each fd that is not -1.
func CloseAll(fds []int) {
	for _, fd := range fds {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// PathGuard is whom the host paths that daemonbox opens for the daemon (its
// logs, stdin, pidfile) must be safe from: what the daemon can change. That
// is the directories of its host ids; with a capability that overrides file
// permissions, in a user namespace, those of every mapped id; and running as
// host uid 0, or with such a capability on the host's ids, every directory
// it sees inside its root. None for a rootless launch, where daemonbox is the
// daemon's own user, nor where the daemon sees the host's whole tree,
// writable, with such power: it can write itself whatever a swapped path
// would make daemonbox write.
func (p *Launch) PathGuard() *hostpath.Guard {
	if p.Rootless {
		return nil
	}
	c := hostCreds(p)
	kept := p.Caps.Keep & overriding
	everywhere := c.uid == 0 || kept != 0 && !p.UserNS
	if everywhere && p.Root == "/" && !p.narrowed() {
		return nil
	}
	g := &hostpath.Guard{UIDs: hostpath.One(c.uid), GIDs: hostpath.One(append([]uint32{c.gid}, c.groups...)...)}
	if kept != 0 && p.UserNS {
		g.UIDs, g.GIDs = idRanges(p.UIDMap), idRanges(p.GIDMap)
	}
	if everywhere {
		g.Reach, g.Why = reach(p), "it runs as uid 0 and sees it"
		if c.uid != 0 {
			g.Why = "it keeps " + strings.Join(kept.Names(), ", ") + " and sees it"
		}
	}
	return g
}

// overriding are the capabilities that change directories that are not the
// process's own: writing through any permission, chmod or chown of any,
// becoming any user or group, mounting.
var overriding = caps.Of(unix.CAP_DAC_OVERRIDE, unix.CAP_FOWNER, unix.CAP_CHOWN,
	unix.CAP_SETUID, unix.CAP_SETGID, unix.CAP_SYS_ADMIN)

// narrowed reports whether the spec makes part of the host's tree read-only
// or hidden from the daemon, beyond the hardening of /proc and /sys that
// every mount namespace gets and its own binds.
func (p *Launch) narrowed() bool {
	for _, m := range p.Mounts {
		if m.Kind != MountReadonly && m.Kind != MountMasked {
			continue
		}
		if !under(m.Target, []Mount{{Target: "/proc"}, {Target: "/sys"}}) && !slices.ContainsFunc(p.Mounts, func(b Mount) bool {
			return b.Kind == MountBind && b.Target == m.Target
		}) {
			return true
		}
	}
	return false
}

// reach is the host directories the daemon sees: its root and what is bound
// into it.
func reach(p *Launch) []string {
	out := []string{p.Root}
	for _, m := range p.Mounts {
		if m.Kind == MountBind {
			out = append(out, m.Source)
		}
	}
	return out
}

func idRanges(maps []spec.IDMap) hostpath.IDs {
	out := make(hostpath.IDs, len(maps))
	for i, m := range maps {
		out[i] = hostpath.Range{First: m.Outside, Count: m.Count}
	}
	return out
}

// createdLogs are the log files this process created for the launch.
var createdLogs []createdLog

type createdLog struct {
	path     string
	dev, ino uint64
}

// RemoveUnusedLogs removes each log file this process created that is still
// empty, once the launch has failed: a failed launch leaves nothing behind.
// A file is removed only if it is still the one created, reached through
// directories the daemon cannot change.
func RemoveUnusedLogs(p *Plan) {
	g := p.PathGuard()
	for _, c := range createdLogs {
		dir, err := hostpath.OpenDir(filepath.Dir(c.path), g)
		if err != nil {
			continue
		}
		name := filepath.Base(c.path)
		var st unix.Stat_t
		if unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Dev == c.dev && st.Ino == c.ino && st.Size == 0 {
			unix.Unlinkat(dir, name, 0)
		}
		unix.Close(dir)
	}
	createdLogs = nil
}

// StreamOwner is the host uid and gid that a pipe daemonbox hands the
// daemon as a stream should belong to, so that the daemon can open it again
// as /dev/stdout or /dev/stderr: its own ids, through the maps of a user
// namespace. -1 for both when daemonbox is not privileged: a rootless pipe
// is the daemon's user's already.
func (p *Launch) StreamOwner() [2]int {
	if p.Rootless {
		return [2]int{-1, -1}
	}
	c := hostCreds(p)
	return [2]int{int(c.uid), int(c.gid)}
}
