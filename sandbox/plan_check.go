package sandbox

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// What `check`, `run` and `start` refuse before any step, because a step
// would fail on it: the command inside the root, the sources of binds,
// where a pidfile goes. Each is found as the steps will meet it.

// command resolves argv[0] as the exec step will: inside the root after the
// mounts, through a bind that covers it, symlinks resolved inside the root.
// It must be a regular file the daemon's ids may execute, on a mount that
// allows exec.
func (r *resolver) command(p *Plan) {
	const key = "process.command[0]"
	argv0 := p.Argv[0]
	base, rel, via := r.commandBase(p, argv0)
	if base == "" {
		r.failExec(unix.ENOENT, key, "%s is hidden by %s inside the sandbox, so exec would fail with ENOENT; move the command or the mount", argv0, via)
		return
	}
	dirFd, err := unix.Open(base, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		r.fail(key, "open %s: %v", base, err)
		return
	}
	defer unix.Close(dirFd)
	resolve := uint64(unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS)
	if via != "" {
		resolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS
	}
	fd, err := unix.Openat2(dirFd, rel, &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: resolve})
	switch {
	case errors.Is(err, unix.EXDEV) && via != "":
		return // a symlink out of the bind: resolved only in the finished root, not checked here
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR):
		r.failExec(unix.ENOENT, key, "%s does not exist %s, so exec would fail with ENOENT; install it there, bind it in with [[filesystem.bind]], or correct the path", argv0, r.where(p, via))
		return
	case err != nil:
		r.fail(key, "resolve %s %s: %v", argv0, r.where(p, via), err)
		return
	}
	defer unix.Close(fd)
	if problem := execProblem(p, fd); problem != "" {
		r.failExec(unix.EACCES, key, "%s %s %s", argv0, r.where(p, via), problem)
	}
}

// failExec records a problem that exec itself would meet with errno: a
// launch refused for it alone exits as the exec step would (127 for
// ENOENT, 126 for EACCES), as run, the shell and env do.
func (r *resolver) failExec(errno unix.Errno, path, format string, args ...any) {
	e := r.s.Errorf(path, format, args...)
	e.ExecErrno = errno
	r.errs = append(r.errs, e)
}

// commandBase is the host directory argv[0] is resolved in and the path
// relative to it: the root, or the source of the deepest bind covering it
// (via names it). A tmpfs or mask over it hides it: base is then "".
func (r *resolver) commandBase(p *Plan, argv0 string) (base, rel, via string) {
	var cover *Mount
	for i, m := range p.Mounts {
		switch m.Kind {
		case MountBind, MountTmpfs, MountMasked, MountDev, MountProc:
			if under(argv0, []Mount{m}) && (cover == nil || depth(m.Target) >= depth(cover.Target)) {
				cover = &p.Mounts[i]
			}
		}
	}
	switch {
	case cover == nil:
		return p.Root, argv0, ""
	case cover.Kind != MountBind:
		return "", "", fmt.Sprintf("a %s mount at %s", cover.Kind, cover.Target)
	}
	rel = strings.TrimPrefix(strings.TrimPrefix(argv0, cover.Target), "/")
	if rel == "" {
		rel = "."
	}
	return cover.Source, rel, "the bind of " + cover.Source + " at " + cover.Target
}

func (r *resolver) where(p *Plan, via string) string {
	switch {
	case via != "":
		return "through " + via
	case p.Root == "/":
		return "on the host"
	}
	return "inside the root " + p.Root
}

// execProblem says why execve of the file at fd would fail for the
// daemon's ids: not a regular file (EACCES), no execute bit for them
// (EACCES), or a noexec mount (EACCES). "" if it would not. ACLs are not
// read: a file executable only through one is reported.
func execProblem(p *Plan, fd int) string {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "fstat: " + err.Error()
	}
	mode := st.Mode & 0o7777
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Sprintf("is %s, not a regular file, so exec would fail with EACCES; name the program itself", fileKind(st.Mode))
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(fd, &fs); err == nil && fs.Flags&unix.ST_NOEXEC != 0 {
		return "is on a noexec mount, so exec would fail with EACCES; move it to a mount that allows exec"
	}
	if !mayExec(p, st) {
		c := hostCreds(&p.Launch)
		return fmt.Sprintf("is not executable by the daemon's uid %d, gid %d and groups %v (mode %#o, owner %d:%d), so exec would fail with EACCES; chmod it, or run as a user that may execute it",
			c.uid, c.gid, c.groups, mode, st.Uid, st.Gid)
	}
	return ""
}

// mayExec applies the kernel's permission check for execute, in host
// terms: the owner's bits for the owner, else the group's for a member,
// else the others'; a capability that overrides file permissions needs any
// execute bit.
func mayExec(p *Plan, st unix.Stat_t) bool {
	if p.Caps.Keep.Has(unix.CAP_DAC_OVERRIDE) {
		return st.Mode&0o111 != 0
	}
	c := hostCreds(&p.Launch)
	switch {
	case st.Uid == c.uid:
		return st.Mode&0o100 != 0
	case st.Gid == c.gid || slices.Contains(c.groups, st.Gid):
		return st.Mode&0o010 != 0
	}
	return st.Mode&0o001 != 0
}

func fileKind(mode uint32) string {
	switch mode & unix.S_IFMT {
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "a device"
	case unix.S_IFIFO:
		return "a FIFO"
	case unix.S_IFSOCK:
		return "a socket"
	case unix.S_IFLNK:
		return "a symbolic link"
	}
	return "a regular file"
}

// bindSources checks what the mounts step will open: every bind's source
// exists, and a target that exists inside the root is of its kind (a
// directory over a directory, a file over a file).
func (r *resolver) bindSources(p *Plan) {
	for i, b := range r.s.Filesystem.Bind {
		key := fmt.Sprintf("filesystem.bind[%d]", i)
		var src unix.Stat_t
		if err := unix.Stat(b.Source, &src); err != nil {
			r.fail(key+".source", "%s: %v, so the mounts step would fail; create it, or remove the bind", b.Source, err)
			continue
		}
		if !insideOther(p, b.Target) {
			r.targetKind(p, key+".target", b.Target, src.Mode&unix.S_IFMT == unix.S_IFDIR)
		}
	}
	for i, w := range r.s.Filesystem.Writable {
		key := fmt.Sprintf("filesystem.writable[%d]", i)
		if w == "/" {
			r.fail(key, "\"/\" is the whole root; drop \"/\" from filesystem.readonly instead")
			continue
		}
		if insideOther(p, w) {
			r.fail(key, "%s lies inside another of the spec's mounts; filesystem.writable applies to the root's own files (bind the path writable instead)", w)
			continue
		}
		if fd, err := openUnder(p.Root, w); err == nil {
			unix.Close(fd)
		} else {
			r.fail(key, "%s %s: %v, so it cannot be left writable; create it first, or use [directories]", w, r.where(p, ""), err)
		}
	}
}

// targetKind refuses a bind whose target exists inside the root with the
// other kind than its source: move_mount would fail with ENOTDIR or EISDIR.
func (r *resolver) targetKind(p *Plan, key, target string, dir bool) {
	fd, err := openUnder(p.Root, target)
	if err != nil {
		return // made by the mounts step
	}
	defer unix.Close(fd)
	if isDir(fd) != dir {
		want := "a file"
		if dir {
			want = "a directory"
		}
		r.fail(key, "%s exists %s but is not %s like its source, so the mount would fail; pick another target", target, r.where(p, ""), want)
	}
}

// insideOther reports whether target lies below another of daemonbox's
// own mounts, whose contents the root's files do not tell.
func insideOther(p *Plan, target string) bool {
	for _, m := range p.Mounts {
		switch m.Kind {
		case MountBind, MountTmpfs, MountDev, MountProc:
			if m.Target != target && under(target, []Mount{m}) {
				return true
			}
		}
	}
	return false
}

// openUnder opens p inside root (O_PATH), as the mounts step resolves it.
func openUnder(root, p string) (int, error) {
	rootFd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(rootFd)
	return unix.Openat2(rootFd, path.Clean(p), &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS})
}

// pidfilePlace checks where start will put a pidfile the spec does not
// name: a user other than root without XDG_RUNTIME_DIR gets /run/daemonbox,
// which it can seldom create or write. Only start (and daemon.detach) needs
// the pidfile, so for a foreground run this is not an error: it is kept in
// StartErrs, which check and start report.
func (r *resolver) pidfilePlace(p *Plan) {
	if p.Pidfile != "" || r.h.Euid == 0 || p.PidfileDir != pidfileDir {
		return
	}
	if writableDir(pidfileDir, r.h.Euid, r.h.Egid) {
		return
	}
	key := "daemon"
	if r.s.Daemon.Detach {
		key = "daemon.detach"
	}
	err := r.s.Errorf(key, "start would put the pidfile in %s (uid %d has no XDG_RUNTIME_DIR, where it goes otherwise), which uid %d cannot create or write; set XDG_RUNTIME_DIR (as a login session does: /run/user/%d), or daemon.pidfile to a path it may write",
		p.PidfilePath(), r.h.Euid, r.h.Euid, r.h.Euid)
	if r.s.Daemon.Detach {
		r.errs = append(r.errs, err)
		return
	}
	p.StartErrs = append(p.StartErrs, err)
}

// writableDir reports whether uid (with primary group gid) may create
// files in dir, or create dir itself when it is missing: what start's
// MkdirAll and claim need. Mode bits are read for uid, whoever runs this.
func writableDir(dir string, uid, gid uint32) bool {
	for d := dir; ; d = path.Dir(d) {
		var st unix.Stat_t
		err := unix.Stat(d, &st)
		if errors.Is(err, unix.ENOENT) && d != "/" {
			continue
		}
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return false
		}
		const wx = 0o3
		switch {
		case uid == 0:
			return true
		case st.Uid == uid:
			return st.Mode>>6&wx == wx
		case st.Gid == gid:
			return st.Mode>>3&wx == wx
		}
		return st.Mode&wx == wx
	}
}
