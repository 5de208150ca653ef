// Package spec is daemonbox's TOML contract: the types of a spec file, a strict
// parser that reports every problem with its line and column, and the hardened
// defaults. It resolves nothing against the running system (users, groups and
// the root directory are the launcher's business). Of ours it imports only
// the leaves whose types it shares: caps's capability set and name table,
// rlimit's RLIM_INFINITY.
package spec

import (
	"fmt"
	"strconv"
	"syscall"
	"time"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/rlimit"
)

// Spec is a parsed, validated spec file with its defaults filled in.
type Spec struct {
	File         string // the path it was read from, for messages
	Version      int
	Name         string
	Process      Process
	User         User
	Filesystem   Filesystem
	Namespaces   Namespaces
	Capabilities Capabilities
	Rlimits      [NumRlimits]*rlimit.Limit // indexed by Linux resource number; nil where inherited
	FDs          FDs
	Signals      Signals
	Daemon       Daemon
	Seccomp      Seccomp
	Resources    Resources
	Landlock     Landlock
	Directories  Directories

	locs *place // where each key path stands in the file
}

// DefaultPath is the daemon's PATH when the spec sets no environment
// (systemd's default for services).
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Process is [process].
type Process struct {
	Command         []string          // argv; Command[0] is absolute, resolved inside the root
	Env             map[string]string // the whole environment; nil: PATH=DefaultPath only
	InheritEnv      []string          // names copied from daemonbox's own environment when set there
	EnvFile         string            // a host file of KEY=VALUE lines, read by daemonbox before the drop
	Cwd             string            // inside the root
	Umask           uint32
	NoNewPrivileges bool
	OOMScoreAdj     *int // nil: inherited
}

// ID is a user or group given by name or by number. A name is always looked
// up (on the host); a number is never treated as a name, nor a name as a number.
type ID struct {
	Name   string
	Num    uint32
	IsName bool
}

func (id ID) String() string {
	if id.IsName {
		return id.Name
	}
	return strconv.FormatUint(uint64(id.Num), 10)
}

// User is [user]. A nil User or Group means "as daemonbox itself runs" and
// "the user's primary group".
type User struct {
	User   *ID
	Group  *ID
	Groups []ID // exactly these; the launcher's own groups are dropped
}

// Filesystem is [filesystem].
type Filesystem struct {
	Root     string // "/" means no chroot
	Readonly []string
	Writable []string // left writable under a read-only root (systemd's ReadWritePaths=)
	Masked   []string
	Tmpfs    []string
	Bind     []Bind
	Dev      *bool // a private minimal /dev: nil means only when the root has none
}

// Bind is one [[filesystem.bind]].
type Bind struct {
	Source, Target string
	Readonly       bool
}

// Namespaces is [namespaces].
type Namespaces struct {
	PID, Mount, Network, IPC, UTS, Cgroup, User bool
	NoInit                                      bool   // init = false: the daemon itself is PID 1
	InitPath                                    string // init = "/path": the host program to run as PID 1
	Hostname                                    string
	UIDMap, GIDMap                              []IDMap
}

// IDMap is one line of a user namespace's uid_map or gid_map.
type IDMap struct {
	Inside, Outside, Count uint32
}

// Capabilities is [capabilities]: the daemon keeps what daemonbox has, less
// Drop (everything when DropAll), plus Keep.
type Capabilities struct {
	DropAll bool
	Drop    caps.Set
	KeepAll bool
	Keep    caps.Set
}

// StdioKind says where a standard stream comes from.
type StdioKind string

// The kinds of standard stream.
const (
	StdioNull    StdioKind = "null"
	StdioInherit StdioKind = "inherit"
	StdioFile    StdioKind = "file"
)

// Stdio is one of fds.stdin, fds.stdout and fds.stderr.
type Stdio struct {
	Kind StdioKind
	Path string // for StdioFile: a host path, opened by daemonbox before any step
}

// FDs is [fds].
type FDs struct {
	Stdin, Stdout, Stderr Stdio
	Preserve              []int // inherited fds passed through at the same numbers
	Listen                []Listen
}

// Listen is one [[fds.listen]]: a socket daemonbox opens, or takes from
// systemd, and hands the daemon at fd 3 onward with LISTEN_FDS.
type Listen struct {
	Name, Address string

	// Address, parsed. Network is one of the Net* constants.
	Network string
	Host    string // tcp and udp: an IP literal without brackets (":80" is 0.0.0.0, or :: for tcp6 and udp6)
	Port    uint16 // tcp and udp
	Path    string // unix: the socket file's absolute path
	Systemd string // systemd: the name (FileDescriptorName=) of a socket systemd passed daemonbox

	// unix only: the socket file's mode (DefaultSocketMode when unset) and
	// owner (daemonbox's when unset; the group defaults to the user's).
	Mode         *uint32
	Owner, Group *ID
}

// The networks of a listen address.
const (
	NetTCP     = "tcp"
	NetTCP6    = "tcp6"
	NetUDP     = "udp"
	NetUDP6    = "udp6"
	NetUnix    = "unix"
	NetSystemd = "systemd"
)

// DefaultSocketMode is a unix socket file's mode when the spec sets none,
// as systemd's SocketMode= has it.
const DefaultSocketMode = 0o666

// Signals is [signals].
type Signals struct {
	Ignore      []int // set to SIG_IGN across exec; every other signal is SIG_DFL
	Stop        int
	StopTimeout time.Duration
	Reload      int
	ParentDeath int // 0: none
}

// Restart is daemon.restart: when the supervisor starts the daemon again.
type Restart string

// The restart policies.
const (
	RestartNo        Restart = "no"
	RestartOnFailure Restart = "on-failure" // a non-zero status or a signal
	RestartAlways    Restart = "always"
)

// Ready is daemon.ready: when the daemon counts as started.
type Ready string

// The readiness policies.
const (
	ReadyExec   Ready = "exec"   // once it is exec'd
	ReadyNotify Ready = "notify" // once it sends READY=1 (sd_notify)
)

// Daemon is [daemon].
type Daemon struct {
	Detach  bool
	Pidfile string
	Restart Restart
	Ready   Ready
	// ReadyTimeout bounds the wait for READY=1 (ready = "notify"). It is not
	// in the reference format, which names no bound; systemd's default
	// TimeoutStartSec is the default here.
	ReadyTimeout time.Duration
	// StartSettle is how long start waits after the exec, with ready =
	// "exec", for a daemon that dies at once (0: not at all).
	StartSettle time.Duration
	// Watchdog is the longest a daemon may go without WATCHDOG=1 before it
	// is killed and handled as a failure (0: no watchdog); WatchdogSec=.
	Watchdog time.Duration
}

// defaults returns a Spec holding every default of the format.
//
// It returns a pointer so that the Spec, about 1 KiB, is built where it will
// live: a Spec value in Parse's frame took the launch past the 4 KiB stack
// the runtime gives the init goroutine, and growing it copies every frame.
func defaults() *Spec {
	s := new(Spec)
	s.Version = 1
	s.Process.Cwd = "/"
	s.Process.Umask = 0o022
	s.Process.NoNewPrivileges = true
	s.Filesystem.Root = "/"
	s.Capabilities.DropAll = true
	s.Rlimits[syscall.RLIMIT_CORE] = &rlimit.Limit{Name: "core", Resource: syscall.RLIMIT_CORE} // 0: no core dumps (python-daemon prevent_core)
	s.FDs.Stdin = Stdio{Kind: StdioNull}
	s.FDs.Stdout = Stdio{Kind: StdioInherit}
	s.FDs.Stderr = Stdio{Kind: StdioInherit}
	s.Signals.Ignore = []int{int(syscall.SIGTTIN), int(syscall.SIGTTOU), int(syscall.SIGTSTP)} // python-daemon's signal_map
	s.Signals.Stop = int(syscall.SIGTERM)
	s.Signals.StopTimeout = 10 * time.Second
	s.Signals.Reload = int(syscall.SIGHUP)
	s.Signals.ParentDeath = int(syscall.SIGKILL)
	s.Daemon.Restart = RestartNo
	s.Daemon.Ready = ReadyExec
	s.Daemon.ReadyTimeout = 90 * time.Second
	s.Seccomp = Seccomp{Enabled: true, Action: SeccompErrno, Errno: syscall.EPERM, DenyWriteExecute: true}
	s.Resources.Parent = DefaultCgroupParent
	s.Landlock.Mode = LandlockRequired
	s.Directories.Mode = DefaultDirectoryMode
	return s
}

// Environ returns the daemon's environment as NAME=value lines, sorted:
// process.env (or PATH alone when it is not set), then the env file's
// values over it, as systemd's EnvironmentFile= overrides Environment=,
// then inherit_env's, taken from lookup (os.LookupEnv for the real
// launcher), over both.
func (s *Spec) Environ(lookup func(string) (string, bool), file map[string]string) []string {
	env := map[string]string{}
	if s.Process.Env == nil {
		env["PATH"] = DefaultPath
	}
	for k, v := range s.Process.Env {
		env[k] = v
	}
	for k, v := range file {
		env[k] = v
	}
	for _, k := range s.Process.InheritEnv {
		if v, ok := lookup(k); ok {
			env[k] = v
		}
	}
	return sortedEnv(env)
}

// Errorf makes an error located at key path, for problems found after parsing
// (an unknown user, a root that is not safe). A path that is not in the file
// points at its nearest enclosing key, else at the file's start.
func (s *Spec) Errorf(path, format string, args ...any) *Error {
	e := &Error{File: s.File, Path: path, Msg: fmt.Sprintf(format, args...)}
	l, ok := s.lookup(path)
	if !ok {
		l = loc{line: 1, col: 1} // a problem of the whole file
	}
	e.Line, e.Col = l.line, l.col
	return e
}
