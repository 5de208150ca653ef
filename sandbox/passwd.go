package sandbox

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Users and groups are resolved from the host's own files, before any chroot,
// and never through NSS: a hostile root directory or an NSS module must not be
// able to choose the daemon's credentials (sudo CVE-2025-32463).

// entry is one line of /etc/passwd (name, uid, gid) or /etc/group (name, gid).
type entry struct {
	name string
	id   uint32
	gid  uint32 // passwd only: the primary group
}

// findEntry returns the first entry of file whose name (byName) or id matches.
func findEntry(file string, byName bool, name string, id uint32) (entry, bool, error) {
	data, err := readSmall(file, 64<<20)
	if err != nil {
		return entry{}, false, err
	}
	// The lines are walked one by one: no slice of them is made.
	for line := range strings.SplitSeq(string(data), "\n") {
		e, ok := parseEntry(line)
		if ok && (byName && e.name == name || !byName && e.id == id) {
			return e, true, nil
		}
	}
	return entry{}, false, nil
}

// readSmall reads a whole file of at most max bytes with plain system calls:
// the os package's first Open sets up Go's poller, which costs more than the
// read on daemonbox's launch path.
func readSmall(path string, max int) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	buf := make([]byte, 0, min(max, int(st.Size)+512))
	for len(buf) < max {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):min(cap(buf), max)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
	return nil, fmt.Errorf("%s is larger than %d bytes", path, max)
}

func parseEntry(line string) (entry, bool) {
	if strings.HasPrefix(line, "#") {
		return entry{}, false
	}
	f := strings.Split(line, ":")
	if len(f) < 3 || f[0] == "" || strings.HasPrefix(f[0], "+") || strings.HasPrefix(f[0], "-") {
		return entry{}, false
	}
	id, err := strconv.ParseUint(f[2], 10, 32)
	if err != nil {
		return entry{}, false
	}
	e := entry{name: f[0], id: uint32(id)}
	if len(f) >= 4 {
		if gid, err := strconv.ParseUint(f[3], 10, 32); err == nil {
			e.gid = uint32(gid)
		}
	}
	return e, true
}
