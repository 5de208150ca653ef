package sandbox

import (
	"bufio"
	"os"
	"strconv"
	"strings"
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
	f, err := os.Open(file)
	if err != nil {
		return entry{}, false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		e, ok := parseEntry(sc.Text())
		if ok && (byName && e.name == name || !byName && e.id == id) {
			return e, true, nil
		}
	}
	return entry{}, false, sc.Err()
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
