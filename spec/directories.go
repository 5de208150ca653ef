package spec

import (
	"path"
	"strings"
)

// [directories]: the state, runtime, logs and cache directories daemonbox
// creates for the daemon, as systemd's StateDirectory= and its kin do.

var (
	directoriesKeys = []string{"state", "runtime", "logs", "cache", "mode"}
)

// DefaultDirectoryMode is a [directories] directory's mode when the spec
// sets none, as systemd's StateDirectoryMode= has it.
const DefaultDirectoryMode = 0o755

// Directories is [directories]: names relative to each kind's base
// (/var/lib, /run, /var/log, /var/cache for root; the XDG directories for
// others).
type Directories struct {
	State, Runtime, Logs, Cache []string
	Mode                        uint32
}

// Any reports whether the spec names a directory.
func (d Directories) Any() bool {
	return len(d.State)+len(d.Runtime)+len(d.Logs)+len(d.Cache) > 0
}

func (d *decoder) directories(v any) {
	m, ok := d.table("directories", v, directoriesKeys)
	if !ok {
		return
	}
	dirs := &d.s.Directories
	each(m, directoriesKeys, func(k string, x any) {
		key := "directories." + k
		if k == "mode" {
			if n, ok := d.octal(key, x, "mode"); ok {
				dirs.Mode = n
			}
			return
		}
		names := d.relNames(key, x)
		switch k {
		case "state":
			dirs.State = names
		case "runtime":
			dirs.Runtime = names
		case "logs":
			dirs.Logs = names
		case "cache":
			dirs.Cache = names
		}
	})
}

// relNames reads a list of relative, canonical paths that stay below their
// base ("web", "web/sessions"), as systemd requires of StateDirectory=.
func (d *decoder) relNames(key string, v any) []string {
	list, ok := d.strings(key, v)
	if !ok {
		return nil
	}
	for i, n := range list {
		switch {
		case n == "" || n == "." || strings.HasPrefix(n, "/"):
			d.failElem(key, i, "%q must be a relative path below the directory's base (\"web\")", n)
		case path.Clean(n) != n:
			d.failElem(key, i, "%q is not canonical (write %q)", n, path.Clean(n))
		case n == ".." || strings.HasPrefix(n, "../"):
			d.failElem(key, i, "%q leads out of the directory's base", n)
		}
	}
	return list
}
