package sandbox

import (
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/daemonbox/daemonbox/hostpath"
	"golang.org/x/sys/unix"
)

// MakeDirectories makes the plan's [directories] before the launch, as
// systemd makes StateDirectory= and its kin: missing parents root's, mode
// 0755; the directory itself the daemon's, with the spec's mode, owner and
// mode set again on one that exists. The base is opened as a log file's
// directory is (hostpath), and every name below it without following a
// link, so a link planted by the daemon cannot turn the chown elsewhere.
func MakeDirectories(p *Plan) error {
	for _, d := range p.Directories {
		if err := makeDirectory(d, p.PathGuard()); err != nil {
			return AtStep("directories", err)
		}
	}
	return nil
}

func makeDirectory(d Directory, g *hostpath.Guard) error {
	if d.UID < 0 { // a user's own XDG base may not exist yet
		if err := os.MkdirAll(d.Base, 0o700); err != nil {
			return err
		}
	}
	dir, err := hostpath.OpenDir(d.Base, g)
	if err != nil {
		return err
	}
	names := strings.Split(d.Name, "/")
	at := d.Base
	for i, name := range names {
		at += "/" + name
		mode := uint32(0o755)
		if i == len(names)-1 {
			mode = d.Mode
		}
		next, err := mkdirAt(dir, name, at, mode)
		unix.Close(dir)
		if err != nil {
			return err
		}
		dir = next
	}
	defer unix.Close(dir)
	if d.UID >= 0 {
		if err := unix.Fchown(dir, d.UID, d.GID); err != nil {
			return OpError("chown", at, err)
		}
	}
	if err := unix.Fchmod(dir, d.Mode); err != nil {
		return OpError("chmod", at, err)
	}
	return nil
}

// mkdirAt makes name in dir unless it is there, and opens it without
// following a link.
func mkdirAt(dir int, name, at string, mode uint32) (int, error) {
	if err := unix.Mkdirat(dir, name, mode); err != nil && !errors.Is(err, unix.EEXIST) {
		return -1, OpError("mkdir", at, err)
	}
	fd, err := unix.Openat(dir, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, OpError("open", at, err)
	}
	return fd, nil
}

// RemoveRuntimeDirectories removes the plan's runtime directories once the
// daemon is gone for good, as systemd removes RuntimeDirectory=. Each is
// removed below its base, opened as MakeDirectories opens it.
func RemoveRuntimeDirectories(p *Plan) error {
	var errs []error
	for _, d := range p.Directories {
		if d.Kind != "runtime" {
			continue
		}
		if err := removeBelow(d, p.PathGuard()); err != nil {
			errs = append(errs, AtStep("directories", err))
		}
	}
	return errors.Join(errs...)
}

func removeBelow(d Directory, g *hostpath.Guard) error {
	base, err := hostpath.OpenDir(d.Base, g)
	if err != nil {
		return err
	}
	defer unix.Close(base)
	// os.Root keeps every name resolved below the base, links included.
	root, err := os.OpenRoot("/proc/self/fd/" + strconv.Itoa(base))
	if err != nil {
		return err
	}
	defer root.Close()
	if err := root.RemoveAll(d.Name); err != nil {
		return OpError("remove", d.Path(), err)
	}
	return nil
}
