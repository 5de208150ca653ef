package pidfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/daemonbox/daemonbox/hostpath"
	"golang.org/x/sys/unix"
)

// ErrNotRunning is returned by Owner when no supervisor holds the pidfile.
var ErrNotRunning = errors.New("not running")

// Owner returns the pid of the process that holds the pidfile's lock: the
// supervisor, which stop and reopen-logs must reach rather than the daemon,
// so that a restart policy never revives a daemon it was told to stop. The
// kernel lists each flock with the pid that took it in /proc/locks.
//
// A pid is only a name: the caller opens a pidfd on it and calls Owner again
// to learn that the process it opened still holds the lock.
func Owner(path string, g *hostpath.Guard) (int, error) {
	dir, err := openDir(path, g)
	if err != nil {
		return 0, err
	}
	defer unix.Close(dir)
	name := filepath.Base(path)
	for range maxAttempts {
		fd, err := openChecked(dir, name, path)
		if err == errReplaced {
			continue
		}
		if err != nil {
			return 0, err
		}
		pid, err := lockHolder(fd)
		current := sameInode(fd, dir, name)
		unix.Close(fd)
		switch {
		case err != nil:
			return 0, err
		case pid > 0:
			return pid, nil
		case current:
			return 0, fmt.Errorf("pidfile %s: %w", path, ErrNotRunning)
		}
		// The inode was replaced by a new version while we looked.
	}
	return 0, fmt.Errorf("pidfile %s: still being replaced after %d attempts", path, maxAttempts)
}

// lockHolder finds the exclusive flock on the inode open at fd.
func lockHolder(fd int) (int, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, err
	}
	// A line reads "1: FLOCK  ADVISORY  WRITE 4242 fd:01:1835 0 EOF", the
	// device's major and minor in hex. A waiter's line has "->" after "1:".
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	locks, err := os.ReadFile("/proc/locks")
	if err != nil {
		return 0, err
	}
	for _, line := range bytes.Split(locks, []byte("\n")) {
		f := bytes.Fields(line)
		if len(f) < 6 || string(f[1]) != "FLOCK" || string(f[3]) != "WRITE" || string(f[5]) != want {
			continue
		}
		return strconv.Atoi(string(f[4]))
	}
	return 0, nil
}
