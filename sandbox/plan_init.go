package sandbox

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// PID 1 of a launch with a PID namespace (namespaces.init).
//
// The one-image launch starts PID 1 first, then enters its namespace and
// forks the daemon itself, so that the daemon stays daemonbox's own child
// (its status and signals need no relay). PID 1 must therefore run with no
// child of its own: a "pause mode" that only reaps orphans. catatonit has
// one (-P: podman's pause process). tini has none, nor has dumb-init: each
// only starts a program and exits with it, so neither can be that PID 1,
// and daemonbox never runs one. tini is looked for only to say so.

// initDirs are where PID 1 is looked for, the distribution's directories
// first, then podman's and Fedora's places for catatonit. Not $PATH:
// whoever starts daemonbox sets PATH, and the program found runs as the
// sandbox's PID 1, started by root.
var initDirs = []string{"/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin", "/usr/local/sbin",
	"/usr/libexec/podman", "/usr/libexec/catatonit"}

// pauseArgs are catatonit's arguments for its pause mode.
var pauseArgs = []string{"-P"}

// pid1 resolves namespaces.init into InitProgram, InitArgv and PID1.
func (r *resolver) pid1(p *Plan) {
	named := r.s.Namespaces.InitPath
	switch {
	case !p.PIDNS:
		p.PID1 = "the host's init (no pid namespace)"
	case !p.Init:
		p.PID1 = "the daemon (init = false)"
	case p.UserNS && named != "":
		r.fail("namespaces.init", "%s cannot be PID 1 with a user namespace: that launch runs in stages, with daemonbox's own PID 1; set init = true, or drop namespaces.user", named)
	case p.UserNS:
		p.PID1 = "daemonbox (a user namespace launches in stages, with daemonbox's own PID 1)"
	case named != "":
		r.namedInit(p, named)
	default:
		r.foundInit(p)
	}
}

// launchPath says in PID1 when catatonit was found or named but the launch
// will take the staged path, with daemonbox's own PID 1, and why: explain
// and check must name the PID 1 that will run. On cgroup v2 the daemon is
// cloned into its cgroup with clone3, which the default filter refuses:
// such a daemon takes stages whenever it has a cgroup, which a foreground
// run in a PID namespace may not (NamespaceEndsAll), while start always
// does.
func (r *resolver) launchPath(p *Plan) {
	if p.InitProgram == "" || r.h.OneImage == nil {
		return
	}
	why := r.oneImage(p, false)
	if why == "" && p.Cgroup.V2 && p.Cgroup.Path != "" {
		why = r.oneImage(p, true)
		if why != "" && p.NamespaceEndsAll() {
			p.PID1 += "; under start, which gives it a cgroup, daemonbox, in stages: " + why
			return
		}
	}
	if why != "" {
		p.StagedWhy = why
		p.PID1 = "daemonbox, as the launch takes stages here: " + why
	}
}

// oneImage asks the host why p cannot take one image. The live host's
// answer keeps its plan-fixed reasons in p, so that UseOneImage does not
// find them again on the launch's critical path.
func (r *resolver) oneImage(p *Plan, intoCgroup bool) string {
	if !r.h.keepBlockers {
		return r.h.OneImage(&p.Launch, p.SeccompPolicy, intoCgroup)
	}
	b := planBlockers(&p.Launch, p.SeccompPolicy, intoCgroup)
	p.blockers[cgroupIndex(intoCgroup)] = &b
	return b.why()
}

// namedInit takes the program init names, which must be a catatonit.
func (r *resolver) namedInit(p *Plan, named string) {
	const key = "namespaces.init"
	real, err := filepath.EvalSymlinks(named)
	switch {
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR):
		r.fail(key, "%s does not exist on the host; install it (apt-get install catatonit), correct the path, or set init = true", named)
		return
	case err != nil:
		r.fail(key, "resolve %s: %v", named, err)
		return
	}
	if !isCatatonit(real) {
		r.fail(key, "%s is not a catatonit: daemonbox starts PID 1 before the daemon, in catatonit's pause mode (-P), and forks the daemon itself; tini and dumb-init have no pause mode (they must start the daemon and exit with it); name a catatonit, or set init = true", named)
		return
	}
	if problem := r.vetInit(real); problem != "" {
		r.fail(key, "%s %s", real, problem)
		return
	}
	r.useInit(p, real, "named by namespaces.init")
}

// foundInit looks for catatonit in initDirs; without one, daemonbox's own
// PID 1 serves.
func (r *resolver) foundInit(p *Plan) {
	if path := findProgram(r.h.InitDirs, "catatonit"); path != "" {
		if problem := r.vetInit(path); problem != "" {
			r.fail("namespaces.init", "%s, found as PID 1, %s; or name another catatonit with namespaces.init = \"/path\"", path, problem)
			return
		}
		r.useInit(p, path, "found")
		return
	}
	const fast = "apt-get install catatonit for the fast launch"
	if tini := findProgram(r.h.InitDirs, "tini"); tini != "" {
		p.PID1 = fmt.Sprintf("daemonbox (%s has no pause mode, so it cannot be PID 1 here: %s)", tini, fast)
		return
	}
	p.PID1 = "daemonbox (no catatonit found: " + fast + ")"
}

func (r *resolver) useInit(p *Plan, path, how string) {
	p.InitProgram = path
	p.InitArgv = append([]string{"catatonit"}, pauseArgs...)
	// Joined, not formatted: fmt's first use on the plan's path costs more.
	p.PID1 = "catatonit (" + path + " " + strings.Join(pauseArgs, " ") + ", " + how + ")"
}

// vetInit says why the program at path must not be PID 1: see
// initProblem. Tests give their own check (their files live under /tmp).
func (r *resolver) vetInit(path string) string {
	if r.h.VetInit != nil {
		return r.h.VetInit(path)
	}
	return initProblem(path)
}

// findProgram is the first file called name in dirs, symlinks resolved;
// "" if none.
func findProgram(dirs []string, name string) string {
	for _, dir := range dirs {
		real, err := filepath.EvalSymlinks(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		var st unix.Stat_t
		if unix.Stat(real, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
			return real
		}
	}
	return ""
}

// isCatatonit reports whether the file at path is named as catatonit is
// (catatonit, or catatonit-static and the like).
func isCatatonit(path string) bool {
	return strings.HasPrefix(filepath.Base(path), "catatonit")
}

// initProblem says why the program at path (symlinks resolved) must not
// be PID 1, "" if nothing: it must be a regular file that may be executed,
// on a mount that allows exec, and it and the directories above it must be
// root's and writable by nobody else, or whoever could replace it would
// run code as the sandbox's PID 1, as sshd's ChrootDirectory rule reasons.
func initProblem(path string) string {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return err.Error()
	}
	var fs unix.Statfs_t
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return fmt.Sprintf("is %s, not a regular file", fileKind(st.Mode))
	case st.Mode&0o111 == 0:
		return fmt.Sprintf("is not executable (mode %#o); chmod +x it", st.Mode&0o7777)
	case unix.Statfs(path, &fs) == nil && fs.Flags&unix.ST_NOEXEC != 0:
		return "is on a noexec mount, so exec would fail with EACCES"
	case st.Uid != 0 || st.Mode&0o022 != 0:
		return fmt.Sprintf("is owned by uid %d with mode %#o: PID 1 must be root's and writable by nobody else; chown root and chmod go-w it", st.Uid, st.Mode&0o7777)
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		if problem := unsafeDir(dir, []uint32{0}); problem != "" {
			return fmt.Sprintf("is in %s, which %s: PID 1's directories must be root's and writable by nobody else", dir, problem)
		}
		if dir == "/" {
			return ""
		}
	}
}
