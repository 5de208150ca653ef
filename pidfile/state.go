package pidfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/daemonbox/daemonbox/hostpath"
	"golang.org/x/sys/unix"
)

// The state file beside a pidfile (PATH.state) keeps what the supervisor
// knows of the daemon's past runs (restarts, the last exit, a failure), so
// that status can tell a failed daemon from a stopped one after the
// supervisor is gone. It is written like the pidfile, as a new inode
// renamed into place, in the same guarded directory; it is not locked:
// the pidfile's lock says whether a supervisor lives.

// StateSuffix names a pidfile's state file: the pidfile's path and this.
const StateSuffix = ".state"

// maxState bounds what is read of a state file: a few short lines.
const maxState = 4096

// WriteState replaces the state file beside the pidfile with text.
func (f *File) WriteState(text string) error {
	fd, err := unix.Openat(f.dir, ".", unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, Mode)
	if err != nil {
		return pathError("create in", filepath.Dir(f.path), err)
	}
	defer unix.Close(fd)
	if err := unix.Fchmod(fd, Mode); err != nil {
		return pathError("chmod", f.path+StateSuffix, err)
	}
	if n, err := unix.Write(fd, []byte(text)); err != nil || n != len(text) {
		if err == nil {
			err = io.ErrShortWrite
		}
		return pathError("write", f.path+StateSuffix, err)
	}
	return f.replaceAs(fd, f.name+StateSuffix)
}

// RemoveState removes the state file beside the pidfile; none is no error.
func (f *File) RemoveState() error {
	return removeState(f.dir, f.name, f.path)
}

func removeState(dir int, name, path string) error {
	err := unix.Unlinkat(dir, name+StateSuffix, 0)
	if err != nil && err != unix.ENOENT {
		return pathError("unlink", path+StateSuffix, err)
	}
	return nil
}

// ReadState returns the state file beside the pidfile at path. A missing
// file gives an error for which errors.Is(err, os.ErrNotExist) holds; what
// is not a regular file with one link is refused, as a pidfile is.
func ReadState(path string, g *hostpath.Guard) (string, error) {
	dir, err := openDir(path, g)
	if err != nil {
		return "", err
	}
	defer unix.Close(dir)
	fd, err := openChecked(dir, filepath.Base(path)+StateSuffix, path+StateSuffix)
	if err != nil {
		return "", err
	}
	defer unix.Close(fd)
	buf := make([]byte, maxState)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil {
		return "", pathError("read", path+StateSuffix, err)
	}
	return string(buf[:n]), nil
}

// RemoveStateAt removes the state file beside the pidfile at path, as stop
// does once the daemon is gone; none is no error.
func RemoveStateAt(path string, g *hostpath.Guard) error {
	dir, err := openDir(path, g)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(dir)
	return removeState(dir, filepath.Base(path), path)
}
