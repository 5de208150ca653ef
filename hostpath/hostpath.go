// Package hostpath opens host paths for a privileged daemonbox so that a
// less privileged user, the daemon's, cannot redirect them.
//
// A path is walked from "/" one component at a time, each relative to the
// directory fd of the one before and opened with O_NOFOLLOW, so what is
// checked is what is used. Every directory on the way must not be writable
// by the guarded user: otherwise that user could rename a component away and
// put a symlink in its place between two opens (a log reopened after a
// rotation, a pidfile claimed again). A symlink is followed only where it
// lies in such a directory, since only who can write a directory can replace
// a link in it. With no guard the walk follows symlinks and checks nothing.
package hostpath

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Guard is the user a path must be safe from, by what it can change.
type Guard struct {
	UIDs IDs // it can act as these owners: an owner may chmod its directory
	GIDs IDs // it can write a directory writable by these groups
	// Reach lists host directories under which it can change every
	// directory, for Why: it runs as uid 0, or keeps a capability that
	// overrides file permissions, and sees them inside its root. They are
	// known by what they are, not by name: a directory whose parents, as
	// the walk meets them, include one of them is in reach, whatever the
	// path that led there (a symlink, or a bind mount of one on the host).
	Reach []string
	Why   string
}

// fileID is what a directory is, whatever its name.
type fileID struct{ dev, ino uint64 }

// IDs is a set of uids or gids, as ranges.
type IDs []Range

// Range is Count ids from First.
type Range struct{ First, Count uint32 }

// Has reports whether id is in the set.
func (s IDs) Has(id uint32) bool {
	for _, r := range s {
		if id >= r.First && id-r.First < r.Count {
			return true
		}
	}
	return false
}

// One is the set of the given ids.
func One(ids ...uint32) IDs {
	out := make(IDs, len(ids))
	for i, id := range ids {
		out[i] = Range{id, 1}
	}
	return out
}

// WritableError says which directory, or symlink, on a path the guarded user
// could change, and how.
type WritableError struct {
	Path, Dir, How string
	Link           bool
}

func (e *WritableError) Error() string {
	if e.Link {
		return fmt.Sprintf("%s: the symlink %s is the daemon's (%s); use a directory only root can write", e.Path, e.Dir, e.How)
	}
	return fmt.Sprintf("%s: the directory %s is writable by the daemon (%s); use a directory only root can write", e.Path, e.Dir, e.How)
}

// maxLinks is how many symlinks a walk follows, as the kernel's limit.
const maxLinks = 40

// OpenDir opens the directory at the absolute path for reading, checked
// against g as the package says.
func OpenDir(path string, g *Guard) (int, error) {
	fd, err := walk(path, g)
	if err != nil {
		return -1, err
	}
	defer unix.Close(fd)
	dir, err := unix.Openat(fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, pathError("open", path, err)
	}
	return dir, nil
}

// OpenFile opens the file at the absolute path with flags (O_NOFOLLOW and
// O_CLOEXEC added) in its directory, opened by OpenDir.
func OpenFile(path string, flags int, mode uint32, g *Guard) (int, error) {
	dir, err := OpenDir(filepath.Dir(path), g)
	if err != nil {
		return -1, err
	}
	defer unix.Close(dir)
	file, err := unix.Openat(dir, filepath.Base(path), flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	if err != nil {
		return -1, pathError("open", path, err)
	}
	return file, nil
}

// walker is one walk: the directory reached so far and its path.
type walker struct {
	path  string // the whole path, for messages
	g     *Guard
	fd    int
	at    string
	links int
	reach map[fileID]bool
	// parents are the directories from "/" to the current one, as walked;
	// inReach is the index of the first of them in reach, or -1.
	parents []fileID
	inReach int
}

// walk returns an O_PATH fd of the directory at path.
func walk(path string, g *Guard) (int, error) {
	if !filepath.IsAbs(path) {
		return -1, pathError("open", path, unix.EINVAL)
	}
	w := &walker{path: path, g: g, fd: -1, reach: g.reachIDs()}
	if err := w.all(split(path)); err != nil {
		if w.fd >= 0 {
			unix.Close(w.fd)
		}
		return -1, err
	}
	return w.fd, nil
}

// all walks from "/" through each name, and through each symlink's target
// where one stands.
func (w *walker) all(todo []string) error {
	if err := w.restart(); err != nil {
		return err
	}
	for len(todo) > 0 {
		target, err := w.step(todo[0])
		if err != nil {
			return err
		}
		todo = todo[1:]
		if target == "" {
			continue
		}
		if strings.HasPrefix(target, "/") {
			if err := w.restart(); err != nil {
				return err
			}
		}
		todo = append(split(target), todo...)
	}
	return nil
}

func split(path string) []string {
	var out []string
	for _, c := range strings.Split(path, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}

// reachIDs are what the reach directories are; one that cannot be found is
// left out, as the launch itself fails without it.
func (g *Guard) reachIDs() map[fileID]bool {
	if g == nil {
		return nil
	}
	ids := map[fileID]bool{}
	for _, dir := range g.Reach {
		var st unix.Stat_t
		if unix.Stat(dir, &st) == nil {
			ids[fileID{st.Dev, st.Ino}] = true
		}
	}
	return ids
}

// restart goes back to "/", for the start or an absolute symlink.
func (w *walker) restart() error {
	fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return pathError("open", "/", err)
	}
	w.parents, w.inReach = w.parents[:0], -1
	return w.enter(fd, "/", false)
}

// step moves into name, or returns the target of the symlink it is.
func (w *walker) step(name string) (link string, err error) {
	next, err := unix.Openat(w.fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	at := filepath.Join(w.at, name)
	if err != nil {
		return "", pathError("open", at, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(next, &st); err != nil {
		unix.Close(next)
		return "", pathError("stat", at, err)
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "", w.enter(next, at, name == "..")
	case unix.S_IFLNK:
		defer unix.Close(next)
		if w.g != nil && w.g.UIDs.Has(st.Uid) {
			// Its directory is safe now, but the link was made by the
			// daemon's user, when it was not.
			return "", &WritableError{Path: w.path, Dir: at, How: fmt.Sprintf("owned by uid %d", st.Uid), Link: true}
		}
		return w.readLink(next, at)
	}
	unix.Close(next)
	return "", pathError("open", at, unix.ENOTDIR)
}

func (w *walker) readLink(fd int, at string) (string, error) {
	if w.links++; w.links > maxLinks {
		return "", pathError("open", w.path, unix.ELOOP)
	}
	buf := make([]byte, unix.PathMax)
	n, err := unix.Readlinkat(fd, "", buf)
	if err != nil {
		return "", pathError("readlink", at, err)
	}
	if n == 0 {
		return "", pathError("readlink", at, unix.ENOENT)
	}
	return string(buf[:n]), nil
}

// enter makes fd, a directory at path at, the walk's place, once it is
// found safe; ".." in a path moves the name back up as the kernel did.
func (w *walker) enter(fd int, at string, up bool) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return pathError("stat", at, err)
	}
	w.track(fileID{st.Dev, st.Ino}, up)
	if how := w.g.writable(&st, w.inReach >= 0); how != "" {
		unix.Close(fd)
		return &WritableError{Path: w.path, Dir: filepath.Clean(at), How: how}
	}
	if w.fd >= 0 {
		unix.Close(w.fd)
	}
	w.fd, w.at = fd, filepath.Clean(at)
	return nil
}

// track moves the walk's list of parents to the directory id: one level up
// for "..", else one down.
func (w *walker) track(id fileID, up bool) {
	if up {
		if len(w.parents) > 1 {
			w.parents = w.parents[:len(w.parents)-1]
		}
		if w.inReach >= len(w.parents) {
			w.inReach = -1
		}
		return
	}
	if w.inReach < 0 && w.reach[id] {
		w.inReach = len(w.parents)
	}
	w.parents = append(w.parents, id)
}

// writable says how g's user could change the directory st describes, at
// path at: as its owner (who may chmod it), through write permission for
// others (a sticky bit lets it plant a name before daemonbox does), through
// a group it holds, or within its reach. "" if it cannot. ACLs are not read.
func (g *Guard) writable(st *unix.Stat_t, inReach bool) string {
	if g == nil {
		return ""
	}
	switch {
	case g.UIDs.Has(st.Uid):
		return fmt.Sprintf("its owner, uid %d", st.Uid)
	case st.Mode&0o002 != 0:
		return fmt.Sprintf("mode %#o", st.Mode&0o7777)
	case st.Mode&0o020 != 0 && g.GIDs.Has(st.Gid):
		return fmt.Sprintf("group %d, mode %#o", st.Gid, st.Mode&0o7777)
	case inReach:
		return g.Why
	}
	return ""
}

func pathError(op, path string, err error) error {
	return &os.PathError{Op: op, Path: path, Err: err}
}

// Within reports whether the clean absolute path p is dir or lies below
// it, by whole components: /srv/jailer is not within /srv/jail.
func Within(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}
