package supervisor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/daemonbox/daemonbox/cgroup"
	"github.com/daemonbox/daemonbox/hostpath"
	"github.com/daemonbox/daemonbox/sandbox"
	"golang.org/x/sys/unix"
)

// An in-place run leaves nothing resident to answer for its cgroup, so it
// leaves a record instead: NAME.cgroup beside the pidfiles, naming its spec
// file, its cgroup's path, and the cgroup directory's inode number, which
// the kernel does not give a later cgroup of the same path (v2: the cgroup
// id; v1: kernfs's 64-bit node id), so a record left behind never names a
// cgroup made since, by a supervisor or another spec. Without a live
// supervisor, stop and status act on a cgroup only when the record names
// their own spec and that very cgroup, so two specs that share a name never
// end or list each other's daemon. A file rather than an xattr on the
// cgroup: v1 hierarchies keep xattrs only when mounted with "xattr".

// errBadRecord is a record daemonbox did not write whole: the next
// in-place run replaces it.
var errBadRecord = errors.New("not a daemonbox cgroup record")

// owner is what a record says.
type owner struct {
	spec, cgroup string
	id           uint64
}

// maxRecord bounds what is read of a record: two paths, a number, newlines.
const maxRecord = 2*unix.PathMax + 24

// names reports whether the record is of g, the cgroup at p's path now.
func (rec *owner) names(p *sandbox.Plan, g *cgroup.Group) bool {
	if rec == nil || rec.cgroup != p.Cgroup.Path {
		return false
	}
	id, err := groupID(g)
	return err == nil && id == rec.id
}

// groupID is the inode number of g's directory.
func groupID(g *cgroup.Group) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(g.Dir(), &st); err != nil {
		return 0, &os.PathError{Op: "stat", Path: g.Dir(), Err: err}
	}
	return st.Ino, nil
}

func recordPath(p *sandbox.Plan) string {
	return filepath.Join(p.PidfileDir, p.Name+".cgroup")
}

// readRecord returns the record for p's name; nil when there is none.
func readRecord(p *sandbox.Plan) (*owner, error) {
	path := recordPath(p)
	fd, err := hostpath.OpenFile(path, unix.O_RDONLY|unix.O_NONBLOCK, 0, p.PathGuard())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cgroup record: %w", err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("cgroup record %s: not a regular file", path)
	}
	buf := make([]byte, maxRecord+1)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("cgroup record: %w", err)
	}
	lines := strings.Split(string(buf[:n]), "\n")
	if len(lines) != 4 || lines[3] != "" || n > maxRecord {
		return nil, fmt.Errorf("cgroup record %s: %w (want three lines: spec file, cgroup, its inode)", path, errBadRecord)
	}
	id, err := strconv.ParseUint(lines[2], 10, 64)
	if err != nil {
		return nil, fmt.Errorf("cgroup record %s: %w (inode: %v)", path, errBadRecord, err)
	}
	return &owner{spec: lines[0], cgroup: lines[1], id: id}, nil
}

// writeRecord records that p's spec owns its cgroup, whose directory is
// inode id: a new file renamed over the old, so a reader sees one whole
// record or the other.
func writeRecord(p *sandbox.Plan, id uint64) error {
	c := &p.Cgroup
	path := recordPath(p)
	if c.Spec == "" || strings.Contains(c.Spec, "\n") {
		return fmt.Errorf("cgroup record %s: the spec file's path %q cannot be recorded", path, c.Spec)
	}
	if err := os.MkdirAll(p.PidfileDir, 0o755); err != nil {
		return fmt.Errorf("cgroup record: %w", err)
	}
	dir, err := hostpath.OpenDir(p.PidfileDir, p.PathGuard())
	if err != nil {
		return fmt.Errorf("cgroup record: %w", err)
	}
	defer unix.Close(dir)
	tmp := "." + filepath.Base(path) + "." + strconv.Itoa(os.Getpid())
	err = fillRecord(dir, tmp, c.Spec+"\n"+c.Path+"\n"+strconv.FormatUint(id, 10)+"\n")
	if err == nil {
		err = unix.Renameat(dir, tmp, dir, filepath.Base(path))
	}
	if err != nil {
		unix.Unlinkat(dir, tmp, 0)
		return &os.PathError{Op: "write cgroup record", Path: path, Err: err}
	}
	return nil
}

// fillRecord makes the file name in dir, readable by all, holding text.
func fillRecord(dir int, name, text string) error {
	unix.Unlinkat(dir, name, 0) // left by a run with this pid that crashed
	fd, err := unix.Openat(dir, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Fchmod(fd, 0o644); err != nil { // whatever the umask
		return err
	}
	n, err := unix.Write(fd, []byte(text))
	if err == nil && n != len(text) {
		err = unix.EIO
	}
	return err
}

// dropRecord removes the record for p's name if it names p's cgroup
// path, whose cgroup is gone.
func dropRecord(p *sandbox.Plan) error {
	rec, err := readRecord(p)
	if err != nil || rec == nil || rec.cgroup != p.Cgroup.Path {
		return err
	}
	dir, err := hostpath.OpenDir(p.PidfileDir, p.PathGuard())
	if err != nil {
		return fmt.Errorf("cgroup record: %w", err)
	}
	defer unix.Close(dir)
	if err := unix.Unlinkat(dir, p.Name+".cgroup", 0); err != nil && err != unix.ENOENT {
		return &os.PathError{Op: "unlink", Path: recordPath(p), Err: err}
	}
	return nil
}
