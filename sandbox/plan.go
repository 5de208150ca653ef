package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/hostpath"
	"github.com/daemonbox/daemonbox/rlimit"
	"github.com/daemonbox/daemonbox/seccomp"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// Plan is a spec resolved against the host: numbers instead of names, the
// final capability sets, every limit to set. Each of its parts has one
// reader: the launch sequence reads Launch, which is all an init stage
// receives; the supervisor reads Lifecycle; explain alone reads Names.
type Plan struct {
	Launch
	Lifecycle
	Names

	// StartErrs are what start (not a foreground run) would fail on, such
	// as a pidfile it cannot create; check reports them too. They stay with
	// the process that read the spec.
	StartErrs spec.Errors

	// blockers are OneImageBlocker's plan-fixed reasons, without and
	// with a cgroup v2 group (cgroupIndex), as NewPlan found them; nil
	// where it did not ask, and in a decoded plan: UseOneImage then finds
	// them itself.
	blockers [2]*oneImageBlockers
}

// Launch is what the launch steps read, in whichever process runs them.
type Launch struct {
	Argv        []string
	Env         []string
	Root        string // "/" when there is no chroot
	Cwd         string
	Umask       uint32
	NoNewPrivs  bool
	OOMScoreAdj *int
	UID, GID    uint32
	Groups      []uint32
	Caps        caps.Want
	Rlimits     []rlimit.Limit // only those the spec sets; the rest are inherited
	Preserve    []int          // sorted
	Listen      []Socket       // [[fds.listen]]: at fds 3 onward, below the preserved fds
	Ignore      []int          // signals set to SIG_IGN; every other one is SIG_DFL
	ParentDeath int            // 0: none

	// Namespaces and mounts ([namespaces], [filesystem]).
	Unshare uintptr // CLONE_NEW* flags the launch unshares: every namespace but pid
	PIDNS   bool    // the init stage is cloned into a new PID namespace
	Init    bool    // with PIDNS: the daemon is not PID 1, but its sibling (one image) or child (staged)
	// PID1Forks: with Init on the staged path, daemonbox's PID 1 forks the
	// daemon itself from a prepared thread (pid1fork.go), instead of
	// starting the daemon's own stage.
	PID1Forks bool
	Hostname  string

	// PID 1 of the one-image launch, with Init (plan_init.go): the host
	// path of a catatonit, symlinks resolved, checked root's and writable by
	// nobody else, to be started as InitArgv ("catatonit", "-P": pause
	// mode, no child of its own) before the daemon. "" when daemonbox's own
	// Go PID 1 serves: none found, or a user namespace's staged launch.
	InitProgram string
	InitArgv    []string
	Mounts      []Mount // made in this order, inside the root

	// The user namespace: the init stage is cloned into it, with the maps
	// written before the stage runs.
	UserNS         bool
	UIDMap, GIDMap []spec.IDMap
	Rootless       bool // made without host privilege: setgroups is denied, the caller's groups stay

	// NotifySocket is the abstract name of the supervisor's notify socket,
	// which the daemon finds in NOTIFY_SOCKET; with a network namespace the
	// launch binds it there too. The supervisor sets it; "" for none.
	NotifySocket string

	// Title is the spec's name, which the init stages show in ps
	// ("daemonbox: web pid1").
	Title string

	// What the kernel lets the daemon do ([seccomp], [landlock]), applied
	// as the last steps before exec.
	Filter   []byte         // the seccomp BPF program, as struct sock_filter entries; nil: no filter
	Landlock *spec.Landlock // nil: no Landlock rules
}

// Lifecycle is what the supervisor reads ([daemon], the streams of [fds],
// the stop and reload signals).
type Lifecycle struct {
	Name         string
	Stdio        [3]spec.Stdio
	Detach       bool   // run as start does; read before any supervisor exists
	Pidfile      string // "" for none in the foreground; see PidfilePath
	PidfileDir   string // for a pidfile the spec does not name
	Restart      spec.Restart
	Ready        spec.Ready
	ReadyTimeout time.Duration
	StartSettle  time.Duration // start's wait for an early death (ready = "exec")
	Watchdog     time.Duration // WATCHDOG=1 at least this often, or a restart
	Stop         int
	StopTimeout  time.Duration
	Reload       int
	Manager      string      // the service manager's socket ($NOTIFY_SOCKET of daemonbox), told when the daemon is ready
	Cgroup       Cgroup      // the daemon's control group ([resources]; plan_cgroup.go)
	Directories  []Directory // [directories]: made before the launch, the runtime ones removed after (plan_dirs.go)
}

// Names are the names the spec gave ids, for explain.
type Names struct {
	UserName, GroupName string
	GroupNames          []string
	LandlockABI         int             // the kernel's, with [landlock]: what explain says is enforced
	SeccompPolicy       *seccomp.Policy // the filter's policy as the spec gives it; nil when the filter is off
	// The variables process.env_file set, with the file's name: explain
	// names their source instead of printing values kept in a file the
	// operator may have made unreadable to others (passwords, tokens).
	EnvFile      string
	EnvFileNames []string
	// PID1 says which PID 1 runs, and why: "catatonit (/usr/bin/catatonit
	// -P, found)"; explain and check print it.
	PID1 string
	// StagedWhy: why a launch that has its catatonit takes stages all
	// the same, with daemonbox's own PID 1 (OneImageBlocker); "" when it
	// takes one image, or has no catatonit.
	StagedWhy string
}

// pidfileDir is where root's daemons have their pidfiles when the spec
// names none; other users' have theirs in $XDG_RUNTIME_DIR/daemonbox, as
// systemd's user services have their runtime files.
const pidfileDir = "/run/daemonbox"

func defaultPidfileDir(euid uint32, lookupEnv func(string) (string, bool)) string {
	if euid == 0 {
		return pidfileDir
	}
	if dir, ok := lookupEnv("XDG_RUNTIME_DIR"); ok && filepath.IsAbs(dir) {
		return filepath.Join(dir, "daemonbox")
	}
	return pidfileDir
}

// DefaultPidfileDir is where this process's start puts the pidfiles of
// specs that name none.
func DefaultPidfileDir() string { return defaultPidfileDir(uint32(os.Geteuid()), os.LookupEnv) }

// PidfilePath is where the daemon's pidfile is: daemon.pidfile, or
// NAME.pid in PidfileDir, NAME being the spec's name or its file's.
// Start and the control commands use it; a foreground run has a pidfile
// only if the spec names one.
func (p *Plan) PidfilePath() string {
	if p.Pidfile != "" {
		return p.Pidfile
	}
	return filepath.Join(p.PidfileDir, p.Name+".pid")
}

// Host is what a plan is resolved against. LiveHost reads the real one; tests
// build their own.
type Host struct {
	Euid, Egid uint32
	Caps       caps.Sets // daemonbox's own permitted and effective sets
	Bounding   func() (caps.Set, error)
	LastCap    int
	Rlimit     func(resource int) (soft, hard uint64, err error)
	NrOpen     func() (uint64, error) // the kernel's ceiling for nofile
	PasswdFile string
	GroupFile  string
	LookupEnv  func(string) (string, bool)
	Sysctl     func(name string) (string, error) // nil: no host switch is read
	Landlock   func() int                        // the kernel's Landlock ABI; nil: LandlockABI's
	Cgroups    func() CgroupBase                 // nil: no cgroup can be made
	InitDirs   []string                          // where catatonit is looked for, in order (plan_init.go); nil: nowhere
	VetInit    func(path string) string          // why a PID 1 program must not run; nil: initProblem
	// OneImage says why a launch cannot take one image (OneImageBlocker,
	// without the cgroup known at launch); nil: it can.
	OneImage func(l *Launch, filter *seccomp.Policy, intoCgroup bool) string
	// keepBlockers: OneImage is OneImageBlocker (LiveHost), so the plan
	// keeps its plan-fixed reasons for UseOneImage at launch.
	keepBlockers bool
}

// LiveHost describes the running daemonbox process and its machine.
func LiveHost() (*Host, error) {
	sets, err := caps.Held()
	if err != nil {
		return nil, err
	}
	last, err := caps.LastCap()
	if err != nil {
		return nil, err
	}
	return &Host{
		Euid: uint32(os.Geteuid()), Egid: uint32(os.Getegid()),
		Caps: sets, LastCap: last, Rlimit: rlimit.Get, NrOpen: nrOpen,
		Bounding:   func() (caps.Set, error) { return caps.Bounding(last) },
		PasswdFile: "/etc/passwd", GroupFile: "/etc/group", LookupEnv: os.LookupEnv, Sysctl: sysctl,
		Landlock: LandlockABI,
		Cgroups:  func() CgroupBase { return liveCgroupBase(uint32(os.Geteuid())) },
		InitDirs: initDirs,
		OneImage: OneImageBlocker, keepBlockers: true,
	}, nil
}

// sysctl reads /proc/sys/name, trimmed.
func sysctl(name string) (string, error) {
	b, err := readSmall("/proc/sys/"+name, 64)
	return strings.TrimSpace(string(b)), err
}

// NewPlan resolves s against h. Every problem is returned, each located in the
// spec file, and nothing on the system is changed.
func NewPlan(s *spec.Spec, h *Host) (*Plan, error) {
	r := &resolver{s: s, h: h}
	p := &Plan{
		Launch: Launch{
			Argv: s.Process.Command, Env: s.Environ(h.LookupEnv, nil),
			Root: s.Filesystem.Root, Cwd: s.Process.Cwd, Umask: s.Process.Umask,
			NoNewPrivs: s.Process.NoNewPrivileges, OOMScoreAdj: s.Process.OOMScoreAdj,
			Preserve:    append([]int(nil), s.FDs.Preserve...),
			Ignore:      s.Signals.Ignore,
			ParentDeath: s.Signals.ParentDeath,
			Title:       planName(s),
		},
		Lifecycle: Lifecycle{
			Name: planName(s), Stdio: [3]spec.Stdio{s.FDs.Stdin, s.FDs.Stdout, s.FDs.Stderr},
			Detach: s.Daemon.Detach, Pidfile: s.Daemon.Pidfile, PidfileDir: defaultPidfileDir(h.Euid, h.LookupEnv),
			Restart: s.Daemon.Restart, Ready: s.Daemon.Ready, ReadyTimeout: s.Daemon.ReadyTimeout,
			StartSettle: s.Daemon.StartSettle, Watchdog: s.Daemon.Watchdog,
			Stop: s.Signals.Stop, StopTimeout: s.Signals.StopTimeout, Reload: s.Signals.Reload,
		},
	}
	p.Manager, _ = h.LookupEnv("NOTIFY_SOCKET")

	sort.Ints(p.Preserve)
	r.credentials(p)
	r.userNamespace(p)
	r.capabilities(p)
	r.rlimits(p)
	r.root(p)
	r.directories(p)
	r.namespaces(p)
	r.pid1(p)
	r.privilege(p)
	r.escapes(p)
	r.stdioPaths(p)
	r.listen(p)
	r.daemonPaths(p)
	r.landlock(p)
	r.cgroup(p)
	r.seccompFilter(p)
	p.PID1Forks = PID1ForkBlocker(&p.Launch, p.SeccompPolicy) == ""
	r.launchPath(p)
	r.command(p)
	r.bindSources(p)
	r.pidfilePlace(p)
	r.envFile(p)
	p.Env = directoryEnv(p.Env, p.Directories)
	if len(r.errs) > 0 {
		return nil, r.errs
	}
	return p, nil
}

// planName is the spec's name, or else its file's, without ".toml".
func planName(s *spec.Spec) string {
	if s.Name != "" {
		return s.Name
	}
	return strings.TrimSuffix(filepath.Base(s.File), ".toml")
}

type resolver struct {
	s    *spec.Spec
	h    *Host
	errs spec.Errors
}

func (r *resolver) fail(path, format string, args ...any) {
	r.errs = append(r.errs, r.s.Errorf(path, format, args...))
}

func (r *resolver) credentials(p *Plan) {
	u := r.s.User
	p.UID, p.GID = r.h.Euid, r.h.Egid
	primary, hasPrimary := r.h.Egid, u.User == nil
	if u.User != nil {
		e, found := r.lookup("user.user", r.h.PasswdFile, *u.User)
		p.UID, p.UserName = e.id, e.name
		primary, hasPrimary = e.gid, found
	}
	switch {
	case u.Group != nil:
		e, _ := r.lookup("user.group", r.h.GroupFile, *u.Group)
		p.GID, p.GroupName = e.id, e.name
	case hasPrimary:
		p.GID = primary
	case u.User != nil && !u.User.IsName:
		r.fail("user.user", "uid %d has no entry in %s, so user.group is required", u.User.Num, r.h.PasswdFile)
	}
	p.Groups = []uint32{}
	for i, g := range u.Groups {
		e, _ := r.lookup(fmt.Sprintf("user.groups[%d]", i), r.h.GroupFile, g)
		p.Groups = append(p.Groups, e.id)
		p.GroupNames = append(p.GroupNames, e.name)
	}
}

// lookup resolves a name in file; a number is taken as it is, and looked up
// only to learn its name and primary group. found says whether file has it.
func (r *resolver) lookup(path, file string, id spec.ID) (e entry, found bool) {
	e, found, err := findEntry(file, id.IsName, id.Name, id.Num)
	switch {
	case err != nil:
		r.fail(path, "read %s: %v", file, err)
	case !found && id.IsName:
		r.fail(path, "unknown name %q (looked up in the host's %s)", id.Name, file)
	case !found:
		e = entry{id: id.Num}
	}
	return e, found
}

func (r *resolver) capabilities(p *Plan) {
	c := r.s.Capabilities
	have := r.h.Caps.Permitted
	if p.UserNS && r.h.Bounding != nil {
		// The init stage holds its whole bounding set in the namespace;
		// read only then, since it costs a prctl per capability.
		b, err := r.h.Bounding()
		if err != nil {
			r.fail("capabilities", "%v", err)
		}
		have = b
	}
	final := have
	if c.DropAll {
		final = 0
	}
	final = final&^c.Drop | c.Keep
	if c.KeepAll {
		final = have
	}
	kernel := caps.Upto(r.h.LastCap)
	if missing := c.Keep &^ kernel; missing != 0 {
		r.fail("capabilities.keep", "%s not known to this kernel", strings.Join(missing.Names(), ", "))
	} else if missing := final &^ have; missing != 0 {
		r.fail("capabilities.keep", "daemonbox does not hold %s, so it cannot pass it on", strings.Join(missing.Names(), ", "))
	}
	p.Caps = caps.Want{Keep: final & kernel, Ambient: p.UID != 0 && final != 0}
}

func (r *resolver) rlimits(p *Plan) {
	// In a user namespace, CAP_SYS_RESOURCE is the namespace's, which
	// setrlimit does not honour.
	canRaise := r.h.Caps.Effective.Has(unix.CAP_SYS_RESOURCE) && !p.UserNS
	for res, l := range r.s.Rlimits {
		if l == nil {
			continue
		}
		path := "rlimits." + l.Name
		_, hard, err := r.h.Rlimit(res)
		switch {
		case err != nil:
			r.fail(path, "getrlimit: %v", err)
		case l.Hard > hard && !canRaise:
			r.fail(path, "hard limit %s is above daemonbox's own (%s); raising it needs CAP_SYS_RESOURCE",
				spec.FormatLimit(res, l.Hard), spec.FormatLimit(res, hard))
		case res == unix.RLIMIT_NOFILE:
			r.nofileCeiling(path, l.Hard)
		}
		p.Rlimits = append(p.Rlimits, *l)
	}
}

func (r *resolver) nofileCeiling(path string, hard uint64) {
	ceiling, err := r.h.NrOpen()
	if err != nil {
		r.fail(path, "read fs.nr_open: %v", err)
	} else if hard > ceiling {
		r.fail(path, "hard limit %d is above the kernel's fs.nr_open (%d)", hard, ceiling)
	}
}

// nrOpen reads fs.nr_open, the most fds a process can be allowed.
func nrOpen() (uint64, error) {
	b, err := readSmall("/proc/sys/fs/nr_open", 64)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

// root applies sshd's ChrootDirectory rule (P10): the root and each of its
// ancestors is a real directory, owned by root, writable by nobody else. Then
// nobody but root can swap a component between this check and the chroot.
// A rootless launch may also use directories of its own user: it has no
// privilege that a swap could turn against the host.
func (r *resolver) root(p *Plan) {
	if p.Root == "/" {
		return
	}
	owners, who := []uint32{0}, "root-owned"
	if p.Rootless {
		owners, who = []uint32{0, r.h.Euid}, "owned by root or by daemonbox's user"
	}
	for dir := p.Root; ; dir = filepath.Dir(dir) {
		if problem := unsafeDir(dir, owners); problem != "" {
			r.fail("filesystem.root", "%s: %s (the root and its ancestors must be directories %s that no one else can write, as sshd requires of ChrootDirectory)", dir, problem, who)
			return
		}
		if dir == "/" {
			break
		}
	}
	r.cwdInRoot(p)
}

func unsafeDir(dir string, owners []uint32) string {
	var st unix.Stat_t
	if err := unix.Lstat(dir, &st); err != nil {
		return err.Error()
	}
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return "is a symbolic link"
	case st.Mode&unix.S_IFMT != unix.S_IFDIR:
		return "is not a directory"
	case !slices.Contains(owners, st.Uid):
		return fmt.Sprintf("is owned by uid %d", st.Uid)
	case st.Mode&0o022 != 0:
		return fmt.Sprintf("is writable by group or others (mode %#o)", st.Mode&0o7777)
	}
	return ""
}

// cwdInRoot checks that the working directory exists inside the root, resolving
// it as the chrooted daemon would (symlinks cannot lead out).
func (r *resolver) cwdInRoot(p *Plan) {
	rootFd, err := unix.Open(p.Root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		r.fail("filesystem.root", "open %s: %v", p.Root, err)
		return
	}
	defer unix.Close(rootFd)
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT}
	fd, err := unix.Openat2(rootFd, p.Cwd, &how)
	if err != nil {
		r.fail("process.cwd", "%s inside the root %s: %v", p.Cwd, p.Root, err)
		return
	}
	unix.Close(fd)
}

// privilege refuses a launch that would fail half-way for want of privilege:
// the steps that change credentials, drop the bounding set and chroot need
// these capabilities in daemonbox's effective set. In a user namespace the
// init stage holds them all, in the namespace.
func (r *resolver) privilege(p *Plan) {
	if p.UserNS {
		return
	}
	need := []int{unix.CAP_SETUID, unix.CAP_SETGID, unix.CAP_SETPCAP}
	if p.Root != "/" {
		need = append(need, unix.CAP_SYS_CHROOT)
	}
	var missing []string
	for _, c := range need {
		if !r.h.Caps.Effective.Has(c) {
			missing = append(missing, caps.Name(c))
		}
	}
	if len(missing) > 0 {
		r.fail("", "daemonbox runs as uid %d without %s, which dropping groups, credentials and capabilities needs; an unprivileged launch needs namespaces.user = true",
			r.h.Euid, strings.Join(missing, ", "))
	}
}

// stdioPaths checks that each log or input file's directory exists; the file
// itself is opened only by a launch.
func (r *resolver) stdioPaths(p *Plan) {
	for i, st := range p.Stdio {
		if st.Kind != spec.StdioFile {
			continue
		}
		key := "fds." + []string{"stdin", "stdout", "stderr"}[i]
		dir := filepath.Dir(st.Path)
		if fi, err := os.Stat(dir); err != nil {
			r.fail(key, "%v", err)
		} else if !fi.IsDir() {
			r.fail(key, "%s is not a directory", dir)
		} else if i == 0 {
			if _, err := os.Lstat(st.Path); errors.Is(err, syscall.ENOENT) {
				r.fail(key, "%s does not exist", st.Path)
			}
		}
	}
}

// daemonPaths applies P23 and P24 to the pidfile, the log files, stdin and
// the unix listen sockets:
// no directory on the way to them may be the daemon's to change, or it
// could swap a component for a symlink to a place where it wants daemonbox
// (root) to create, append to, read or unlink a file. The same walk is made
// again at every open (see hostpath).
func (r *resolver) daemonPaths(p *Plan) {
	g := p.PathGuard()
	if g == nil {
		return
	}
	if p.Pidfile != "" {
		r.guardedDir(g, "daemon.pidfile", p.Pidfile)
	}
	for i, st := range p.Stdio {
		if st.Kind == spec.StdioFile {
			r.guardedDir(g, "fds."+StreamNames[i], st.Path)
		}
	}
	for i, s := range p.Listen {
		if s.Network == spec.NetUnix {
			r.guardedDir(g, fmt.Sprintf("fds.listen[%d].address", i), s.Path)
		}
	}
	for _, d := range p.Directories { // made below their base, as root
		r.guardedDir(g, "directories."+d.Kind, filepath.Join(d.Base, d.Name))
	}
}

func (r *resolver) guardedDir(g *hostpath.Guard, key, path string) {
	dir, err := hostpath.OpenDir(filepath.Dir(path), g)
	var werr *hostpath.WritableError
	switch {
	case errors.As(err, &werr):
		werr.Path = path
		r.fail(key, "%v", werr)
	case err == nil:
		unix.Close(dir)
	} // a missing directory: stdioPaths and the pidfile's claim report it
}
