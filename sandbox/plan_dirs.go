package sandbox

import (
	"fmt"
	"path"
	"strings"
)

// Directory is one directory of [directories]: made by daemonbox before the
// launch, with the daemon's owner and the spec's mode, and seen by the
// daemon at the same path (bound in when the root is read-only or a chroot).
type Directory struct {
	Kind     string // state, runtime, logs or cache
	Base     string // the kind's base (/var/lib, or $XDG_STATE_HOME rootless); it is not created but rootless
	Name     string // relative to Base, as the spec gives it
	Mode     uint32
	UID, GID int // the host owner; -1 leaves daemonbox's own (a launch without privilege)
}

// Path is the directory's host path, which is also the daemon's.
func (d Directory) Path() string { return path.Join(d.Base, d.Name) }

// directoryKinds are the kinds in the order systemd lists them, with the
// variable that names them to the daemon.
var directoryKinds = []struct{ kind, env string }{
	{"runtime", "RUNTIME_DIRECTORY"}, {"state", "STATE_DIRECTORY"},
	{"cache", "CACHE_DIRECTORY"}, {"logs", "LOGS_DIRECTORY"},
}

// directories resolves [directories]: root's bases are systemd's system
// ones, another user's its XDG ones, as systemd's user services have them.
func (r *resolver) directories(p *Plan) {
	d := r.s.Directories
	names := map[string][]string{"state": d.State, "runtime": d.Runtime, "logs": d.Logs, "cache": d.Cache}
	uid, gid := -1, -1
	if r.h.Euid == 0 {
		uid, gid = int(p.HostUID()), int(hostCreds(&p.Launch).gid)
	}
	for _, k := range directoryKinds {
		if len(names[k.kind]) == 0 {
			continue
		}
		base, err := r.directoryBase(k.kind)
		if err != "" {
			r.fail("directories."+k.kind, "%s", err)
			continue
		}
		for _, n := range names[k.kind] {
			p.Directories = append(p.Directories, Directory{Kind: k.kind, Base: base, Name: n, Mode: d.Mode, UID: uid, GID: gid})
		}
	}
}

// directoryBase is where a kind's directories go, or why it is unknown.
func (r *resolver) directoryBase(kind string) (string, string) {
	if r.h.Euid == 0 {
		return map[string]string{"state": "/var/lib", "runtime": "/run", "logs": "/var/log", "cache": "/var/cache"}[kind], ""
	}
	env := func(name, fallback string) (string, string) {
		if v, ok := r.h.LookupEnv(name); ok && path.IsAbs(v) {
			return path.Clean(v), ""
		}
		home, ok := r.h.LookupEnv("HOME")
		if fallback == "" || !ok || !path.IsAbs(home) {
			return "", fmt.Sprintf("uid %d has no %s, where its %s directories go; set it (a login session sets XDG_RUNTIME_DIR to /run/user/%d)", r.h.Euid, name, kind, r.h.Euid)
		}
		return path.Join(home, fallback), ""
	}
	switch kind {
	case "runtime":
		return env("XDG_RUNTIME_DIR", "")
	case "cache":
		return env("XDG_CACHE_HOME", ".cache")
	case "logs":
		base, err := env("XDG_STATE_HOME", ".local/state")
		return path.Join(base, "log"), err
	}
	return env("XDG_STATE_HOME", ".local/state")
}

// directoryEnv gives the daemon each kind's paths, joined with ':', as
// systemd does; they are set over any value the spec or env file gives.
func directoryEnv(env []string, dirs []Directory) []string {
	for _, k := range directoryKinds {
		var paths []string
		for _, d := range dirs {
			if d.Kind == k.kind {
				paths = append(paths, d.Path())
			}
		}
		if len(paths) == 0 {
			continue
		}
		env = setEnv(env, k.env, strings.Join(paths, ":"))
	}
	return env
}

// setEnv sets name in a sorted NAME=value list, keeping it sorted.
func setEnv(env []string, name, value string) []string {
	out := make([]string, 0, len(env)+1)
	line, done := name+"="+value, false
	for _, e := range env {
		n, _, _ := strings.Cut(e, "=")
		switch {
		case n == name:
			continue
		case !done && n > name:
			out, done = append(out, line), true
		}
		out = append(out, e)
	}
	if !done {
		out = append(out, line)
	}
	return out
}

// directoryMounts are the binds that make [directories] writable for the
// daemon where the root is a chroot (the host's directory bound at the same
// path inside it) or read-only (an in-root bind over itself).
func (r *resolver) directoryMounts(dirs []Directory) []Mount {
	root := r.s.Filesystem.Root
	var out []Mount
	for _, d := range dirs {
		p := d.Path()
		switch {
		case root != "/":
			out = append(out, Mount{Kind: MountBind, Source: p, Target: p})
		case r.readonlyCovers(p):
			out = append(out, Mount{Kind: MountBind, Source: p, Target: p, InRoot: true})
		}
	}
	return out
}

func (r *resolver) readonlyCovers(p string) bool {
	for _, ro := range r.s.Filesystem.Readonly {
		if under(p, []Mount{{Target: ro}}) {
			return true
		}
	}
	return false
}
