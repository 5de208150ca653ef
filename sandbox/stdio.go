package sandbox

import (
	"errors"
	"path/filepath"

	"github.com/daemonbox/daemonbox/hostpath"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

var streamNames = [3]string{"stdin", "stdout", "stderr"}

// openStdio opens the standard streams' files with daemonbox's privileges,
// before any step: their paths are host paths. -1 means inherit.
func openStdio(p *Plan) ([3]int, error) {
	fds := [3]int{-1, -1, -1}
	for i, s := range p.Stdio {
		var err error
		switch s.Kind {
		case spec.StdioNull:
			fds[i], err = unix.Open("/dev/null", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
			if err != nil {
				err = opError("open", "/dev/null", err)
			}
		case spec.StdioFile:
			fds[i], err = openStdioFile(s.Path, i == 0, pathGuard(p))
		}
		if err != nil {
			closeAll(fds[:i])
			return fds, stepError(streamNames[i], err)
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
	fd, dir, err := hostpath.OpenFile(path, flags|unix.O_NOCTTY|unix.O_NONBLOCK, 0o640, g)
	if err != nil {
		return -1, pathStepError(err)
	}
	unix.Close(dir)
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
		return -1, opError("fcntl F_SETFL", path, err)
	}
	return fd, nil
}

func closeAll(fds []int) {
	for _, fd := range fds {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// pathGuard is whom the host paths that daemonbox opens for the daemon (its
// logs, stdin, pidfile) must be safe from: the daemon's host ids. None for a
// daemon that is uid 0 on the host, which owns what root owns, or for a
// rootless launch, which is on the host the same user as its daemon.
func pathGuard(p *Plan) *hostpath.Guard {
	c := hostCreds(p)
	if c.uid == 0 || p.Rootless {
		return nil
	}
	return &hostpath.Guard{UID: c.uid, GIDs: append([]uint32{c.gid}, c.groups...)}
}

// createdLogs are the log files this process created for the launch.
var createdLogs []createdLog

type createdLog struct {
	path     string
	dev, ino uint64
}

// removeUnusedLogs removes each log file this process created that is still
// empty, once the launch has failed: a failed launch leaves nothing behind.
// A file is removed only if it is still the one created, reached through
// directories the daemon cannot change.
func removeUnusedLogs(p *Plan) {
	for _, c := range createdLogs {
		dir, err := hostpath.OpenDir(filepath.Dir(c.path), pathGuard(p))
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
