// Package pidfile claims, fills, reads and removes a daemon's pidfile.
//
// The supervisor holds an exclusive flock on the pidfile for the daemon's
// whole life, so whether a daemon runs is decided by the lock, never by
// whether the pid written in the file is alive: pids are reused. The file is
// never written in place. Each version (empty while the daemon starts, then
// its pid) is a new, already-locked inode put at the path by link or rename,
// so a reader sees a whole file or none, and the path always names a locked
// inode while the supervisor lives.
//
// Nothing is followed or opened for writing at the path itself: a symlink,
// hard link, FIFO or directory found there is refused and left untouched
// (security.md P23). The directory is reached through directories that the
// daemon's user cannot change, at every claim and every read (see hostpath).
package pidfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/daemonbox/daemonbox/hostpath"
	"golang.org/x/sys/unix"
)

// Mode is the pidfile's permission: readable by all, written by its owner.
const Mode = 0o644

// ErrRunning is returned by Claim when a live supervisor holds the pidfile.
var ErrRunning = errors.New("already running")

// maxAttempts bounds how often Claim and Read start over after losing a race.
const maxAttempts = 100

// errReplaced means the file opened at the path was unlinked or replaced
// before it could be checked: the caller looks again.
var errReplaced = errors.New("replaced while being opened")

// File is a claimed pidfile, locked until Remove.
type File struct {
	path string
	dir  int // the directory, so that every later step names the same one
	name string
	fd   int // the inode now at the path, locked
}

// Claim takes the pidfile at path for a new daemon, leaving it empty and
// locked. A live holder gives an error wrapping ErrRunning that names the
// pid it wrote; a stale file (no lock) is replaced.
func Claim(path string, g *hostpath.Guard) (*File, error) {
	dir, err := openDir(path, g)
	if err != nil {
		return nil, err
	}
	f := &File{path: path, dir: dir, name: filepath.Base(path), fd: -1}
	for range maxAttempts {
		done, err := f.tryClaim()
		if done {
			return f, nil
		}
		if err != nil {
			unix.Close(dir)
			return nil, err
		}
	}
	unix.Close(dir)
	return nil, fmt.Errorf("pidfile %s: still contended after %d attempts", path, maxAttempts)
}

// tryClaim makes one attempt; done false means the path changed under it
// and the caller should try again.
func (f *File) tryClaim() (done bool, err error) {
	fd, err := f.newVersion("")
	if err != nil {
		return false, err
	}
	err = unix.Linkat(unix.AT_FDCWD, procFD(fd), f.dir, f.name, unix.AT_SYMLINK_FOLLOW)
	if err == nil {
		f.fd = fd
		return true, nil
	}
	if err != unix.EEXIST {
		unix.Close(fd)
		return false, pathError("link", f.path, err)
	}
	done, err = f.takeOverStale(fd)
	if !done {
		unix.Close(fd)
	}
	return done, err
}

// takeOverStale replaces what is at the path with the new version fd, if
// no supervisor holds it.
func (f *File) takeOverStale(fd int) (bool, error) {
	old, err := openChecked(f.dir, f.name, f.path)
	if errors.Is(err, unix.ENOENT) || err == errReplaced {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer unix.Close(old)
	// The exclusive lock first: probing with a shared one before it would
	// have every simultaneous claimer hold a shared lock while it asks for
	// the exclusive one, each refusing all the others, round after round.
	if unix.Flock(old, unix.LOCK_EX|unix.LOCK_NB) != nil {
		// A shared lock fails only against an exclusive one: a
		// supervisor's, or a claim in progress. Readers take shared locks,
		// so they never make a live daemon look absent or a stale one look
		// alive; one held here means only that the caller must look again.
		if unix.Flock(old, unix.LOCK_SH|unix.LOCK_NB) != nil {
			return false, fmt.Errorf("pidfile %s: %w (pid %s)", f.path, ErrRunning, pidText(old))
		}
		return false, nil
	}
	if !f.atPath(old) {
		return false, nil
	}
	if err := f.replace(fd); err != nil {
		return false, err
	}
	f.fd = fd
	return true, nil
}

// Write puts the daemon's pid in the pidfile, as a new locked inode renamed
// over the old one, which stays locked until the new one is in place.
func (f *File) Write(pid int) error { return f.put(strconv.Itoa(pid) + "\n") }

// Clear empties the pidfile, still locked: the daemon has ended and the
// supervisor will start it again.
func (f *File) Clear() error { return f.put("") }

func (f *File) put(content string) error {
	fd, err := f.newVersion(content)
	if err != nil {
		return err
	}
	if err := f.replace(fd); err != nil {
		unix.Close(fd)
		return err
	}
	unix.Close(f.fd)
	f.fd = fd
	return nil
}

// Remove unlinks the pidfile if it is still this claim's, then releases the
// lock. Only a holder of the lock replaces the file, so the check cannot go
// stale before the unlink.
func (f *File) Remove() error {
	var err error
	if f.atPath(f.fd) {
		if e := unix.Unlinkat(f.dir, f.name, 0); e != nil {
			err = pathError("unlink", f.path, e)
		}
	}
	unix.Close(f.fd)
	unix.Close(f.dir)
	return err
}

// newVersion creates an unnamed file in the pidfile's directory holding
// content, mode 0644 whatever the umask, and locks it.
func (f *File) newVersion(content string) (int, error) {
	fd, err := unix.Openat(f.dir, ".", unix.O_TMPFILE|unix.O_WRONLY|unix.O_CLOEXEC, Mode)
	if err != nil {
		return -1, pathError("create in", filepath.Dir(f.path), err)
	}
	if err := newVersionSetup(fd, content); err != nil {
		unix.Close(fd)
		return -1, pathError("write", f.path, err)
	}
	return fd, nil
}

func newVersionSetup(fd int, content string) error {
	if err := unix.Fchmod(fd, Mode); err != nil {
		return err
	}
	n, err := unix.Write(fd, []byte(content))
	if err != nil {
		return err
	}
	if n != len(content) {
		return io.ErrShortWrite
	}
	return unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
}

// replace renames the new version fd over the pidfile, through a temporary
// name, since an unnamed file can only be linked to a free name.
func (f *File) replace(fd int) error { return f.replaceAs(fd, f.name) }

// replaceAs renames the unnamed file fd over name in the pidfile's directory.
func (f *File) replaceAs(fd int, name string) error {
	for i := 0; ; i++ {
		tmp := fmt.Sprintf(".%s.%d.%d", name, os.Getpid(), i)
		err := unix.Linkat(unix.AT_FDCWD, procFD(fd), f.dir, tmp, unix.AT_SYMLINK_FOLLOW)
		if err == unix.EEXIST && i < maxAttempts {
			continue
		}
		if err != nil {
			return pathError("link", filepath.Join(filepath.Dir(f.path), tmp), err)
		}
		if err := unix.Renameat(f.dir, tmp, f.dir, name); err != nil {
			unix.Unlinkat(f.dir, tmp, 0)
			return pathError("rename", filepath.Join(filepath.Dir(f.path), name), err)
		}
		return nil
	}
}

// openChecked opens what is at the path for reading and locking, refusing
// anything but a regular file with a single link. O_NONBLOCK keeps a FIFO
// from hanging the open.
func openChecked(dir int, name, path string) (int, error) {
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err == unix.ELOOP {
		return -1, fmt.Errorf("pidfile %s: is a symbolic link; refused", path)
	}
	if err != nil {
		return -1, pathError("open", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, pathError("stat", path, err)
	}
	switch {
	case st.Nlink == 0:
		err = errReplaced
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		err = fmt.Errorf("pidfile %s: not a regular file; refused", path)
	case st.Nlink != 1:
		err = fmt.Errorf("pidfile %s: has %d hard links; refused", path, st.Nlink)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// atPath reports whether the inode open at fd is the one at the path.
func (f *File) atPath(fd int) bool { return sameInode(fd, f.dir, f.name) }

func sameInode(fd, dir int, name string) bool {
	var a, b unix.Stat_t
	if unix.Fstat(fd, &a) != nil || unix.Fstatat(dir, name, &b, unix.AT_SYMLINK_NOFOLLOW) != nil {
		return false
	}
	return a.Dev == b.Dev && a.Ino == b.Ino
}

// State is what a pidfile says.
type State struct {
	Running bool // a supervisor holds the lock
	PID     int  // 0 while the daemon is starting, or if the file is empty
}

// Read reports the pidfile at path. A missing file gives an error for which
// errors.Is(err, os.ErrNotExist) holds.
func Read(path string, g *hostpath.Guard) (State, error) {
	dir, err := openDir(path, g)
	if err != nil {
		return State{}, err
	}
	defer unix.Close(dir)
	for range maxAttempts {
		fd, err := openChecked(dir, filepath.Base(path), path)
		if err == errReplaced {
			continue
		}
		if err != nil {
			return State{}, err
		}
		st, err := readLocked(fd, path)
		// An unlocked file that is no longer at the path was the previous
		// version, released once the new one was in place.
		moved := !st.Running && !sameInode(fd, dir, filepath.Base(path))
		unix.Close(fd)
		if moved {
			continue
		}
		return st, err
	}
	return State{}, fmt.Errorf("pidfile %s: still being replaced after %d attempts", path, maxAttempts)
}

func readLocked(fd int, path string) (State, error) {
	var st State
	if unix.Flock(fd, unix.LOCK_SH|unix.LOCK_NB) != nil {
		st.Running = true
	}
	text := pidText(fd)
	if text != "" {
		pid, err := strconv.Atoi(text)
		if err != nil || pid <= 0 {
			return st, fmt.Errorf("pidfile %s: %q is not a pid", path, text)
		}
		st.PID = pid
	}
	return st, nil
}

// pidText is the file's content without its newline; a pid is short.
func pidText(fd int) string {
	buf := make([]byte, 32)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil || n < 0 {
		return ""
	}
	return strings.TrimSpace(string(buf[:n]))
}

func procFD(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// openDir opens the pidfile's directory, which every later step names by fd.
func openDir(path string, g *hostpath.Guard) (int, error) {
	dir, err := hostpath.OpenDir(filepath.Dir(path), g)
	var werr *hostpath.WritableError
	if errors.As(err, &werr) {
		werr.Path = "pidfile " + path
	}
	return dir, err
}

func pathError(op, path string, err error) error {
	return &os.PathError{Op: op, Path: path, Err: err}
}
