package spec

import (
	"strings"

	"golang.org/x/sys/unix"
)

// The top level of a spec: the tables it may hold, and its own keys.

var (
	topKeys = []string{"version", "name", "process", "user", "filesystem", "namespaces", "capabilities", "rlimits", "fds", "signals", "daemon", "seccomp", "resources", "landlock", "directories"}
)

// MaxID is the largest uid or gid; (uid_t)-1 means "unchanged" to the kernel.
const MaxID = 1<<32 - 2

func (d *decoder) document(doc map[string]any) {
	m, _ := d.table("", doc, topKeys)
	if v, ok := m["version"]; ok {
		if n, ok := d.integer("version", v, 1, 1); ok {
			d.s.Version = int(n)
		}
	}
	if v, ok := m["name"]; ok {
		d.name(v)
	}
	proc, ok := m["process"]
	if !ok {
		d.fail("", "[process] with command is required")
	} else {
		d.process(proc)
	}
	sections := []struct {
		key string
		fn  func(any)
	}{
		{"user", d.user}, {"filesystem", d.filesystem}, {"namespaces", d.namespaces},
		{"capabilities", d.capabilities}, {"rlimits", d.rlimits}, {"fds", d.fds},
		{"signals", d.signals}, {"daemon", d.daemon},
		{"seccomp", d.seccomp}, {"resources", d.resources}, {"landlock", d.landlock},
		{"directories", d.directories},
	}
	for _, sec := range sections {
		if v, ok := m[sec.key]; ok {
			sec.fn(v)
		}
	}
	d.implyMount()
	d.filtersNeedNoNewPrivs()
}

// filtersNeedNoNewPrivs applies the kernel's rule for seccomp and Landlock: an
// unprivileged thread may install a filter only with no_new_privs set, so
// that a setuid program cannot run under a filter it did not expect.
func (d *decoder) filtersNeedNoNewPrivs() {
	s := d.s
	if s.Process.NoNewPrivileges || s.Capabilities.mayKeep(unix.CAP_SYS_ADMIN) {
		return
	}
	if s.Seccomp.Enabled {
		d.fail("process.no_new_privileges", "false needs seccomp.enabled = false (the kernel installs a filter only with no_new_privs, or with CAP_SYS_ADMIN kept)")
	}
	if s.Landlock.Set {
		d.fail("process.no_new_privileges", "false cannot go with [landlock] (the kernel enforces it only with no_new_privs, or with CAP_SYS_ADMIN kept)")
	}
}

func (d *decoder) name(v any) {
	s, ok := d.str("name", v)
	if !ok {
		return
	}
	if s == "" || len(s) > 64 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
		d.fail("name", "%q: use 1 to 64 letters, digits, '.', '_' or '-'", s)
		return
	}
	d.s.Name = s
}
