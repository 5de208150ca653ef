package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/daemonbox/daemonbox/hostpath"
	"github.com/daemonbox/daemonbox/internal/ipaddr"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// Socket activation: the sockets of [[fds.listen]] are opened by the
// process that starts the launch, with daemonbox's privileges and in the
// host's network namespace, before any step; the daemon finds them at fd 3
// onward with LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES (sd_listen_fds(3)).
// A supervisor opens them once and hands the same sockets to every restart.

// OpenListen opens the plan's sockets, in order, close-on-exec.
func OpenListen(l *Launch) ([]int, error) {
	g := l.PathGuard()
	fds := make([]int, 0, len(l.Listen))
	for i := range l.Listen {
		fd, err := l.Listen[i].open(g)
		if err != nil {
			CloseAll(fds)
			return nil, AtStep("listen", err)
		}
		fds = append(fds, fd)
	}
	return fds, nil
}

func (s *Socket) open(g *hostpath.Guard) (int, error) {
	switch s.Network {
	case spec.NetSystemd:
		return s.fromSystemd()
	case spec.NetUnix:
		return s.openUnix(g)
	}
	family, sa := s.sockaddr()
	sotype := unix.SOCK_STREAM
	if s.Network == spec.NetUDP || s.Network == spec.NetUDP6 {
		sotype = unix.SOCK_DGRAM
	}
	fd, err := unix.Socket(family, sotype|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, s.fail("socket", err)
	}
	err = s.bind(fd, family, sa)
	if err == nil && sotype == unix.SOCK_STREAM {
		err = s.listen(fd)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// sockaddr is the address to bind: tcp6 and udp6 are IPv6 only, tcp and
// udp with an IPv6 address take IPv4 too, as Linux does by default.
func (s *Socket) sockaddr() (int, unix.Sockaddr) {
	a, err := ipaddr.Parse(s.Host)
	if err != nil {
		panic("listen host " + s.Host + ": " + err.Error()) // the spec wrote it from a parsed address
	}
	if a.Is4() {
		return unix.AF_INET, &unix.SockaddrInet4{Port: int(s.Port), Addr: a.As4()}
	}
	return unix.AF_INET6, &unix.SockaddrInet6{Port: int(s.Port), Addr: a.As16()}
}

// bind sets SO_REUSEADDR on a stream socket, so that a restart does not
// wait for the last run's connections in TIME_WAIT, and binds. Not on a
// datagram socket: there it would let another user's socket bind the same
// port and take the datagrams, and UDP has no TIME_WAIT to wait out.
func (s *Socket) bind(fd, family int, sa unix.Sockaddr) error {
	if s.Network == spec.NetTCP || s.Network == spec.NetTCP6 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
			return s.fail("setsockopt SO_REUSEADDR", err)
		}
	}
	if family == unix.AF_INET6 {
		only := 0
		if s.Network == spec.NetTCP6 || s.Network == spec.NetUDP6 {
			only = 1
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, only); err != nil {
			return s.fail("setsockopt IPV6_V6ONLY", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return s.fail("bind", err)
	}
	return nil
}

func (s *Socket) listen(fd int) error {
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		return s.fail("listen", err)
	}
	return nil
}

// fail names the socket and its address: `bind "http" tcp://0.0.0.0:80`.
func (s *Socket) fail(op string, err error) *StepError {
	return OpError(op, fmt.Sprintf("%q %s", s.Name, s.Address), err)
}

// openUnix binds a stream socket at its path, in a directory the daemon
// cannot change (as a log file's), then gives the file its owner and mode.
// The bind names the path itself, which is the address the daemon and its
// clients see (sd_is_socket_unix compares it), under umask 0777, so that no
// one connects before the mode is set; should someone else who may write a
// directory on the way move it meanwhile, the file is not found below and
// the launch fails. The owner and mode are then set on the file
// opened without following a link, and only if it is a socket: whoever else
// may write the directory cannot swap a link in to have daemonbox chmod its
// target. A socket file left by an earlier run is replaced if nothing
// answers on it; anything else at the path is refused.
func (s *Socket) openUnix(g *hostpath.Guard) (int, error) {
	dir, err := hostpath.OpenDir(filepath.Dir(s.Path), g)
	if err != nil {
		return -1, AtStep("listen", pathStepError(err))
	}
	defer unix.Close(dir)
	name := filepath.Base(s.Path)
	if err := s.removeStale(dir, name); err != nil {
		return -1, err
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, s.fail("socket", err)
	}
	old := unix.Umask(0o777)
	err = unix.Bind(fd, &unix.SockaddrUnix{Name: s.Path})
	unix.Umask(old)
	if err != nil {
		unix.Close(fd)
		return -1, s.fail("bind", err)
	}
	if err = s.setFile(dir, name); err == nil {
		err = s.listen(fd)
	}
	if err != nil {
		unix.Close(fd)
		unix.Unlinkat(dir, name, 0)
		return -1, err
	}
	return fd, nil
}

// dirPath names name in the directory open at dir through /proc, when that
// fits a socket address (108 bytes); else the path itself, which the
// directory check then covers alone.
func dirPath(dir int, name, path string) string {
	p := "/proc/self/fd/" + strconv.Itoa(dir) + "/" + name
	if len(p) < len(unix.RawSockaddrUnix{}.Path) {
		return p
	}
	return path
}

// setFile gives the socket file its owner and mode through an O_PATH fd of
// the file itself, never a link's target.
func (s *Socket) setFile(dir int, name string) error {
	f, err := unix.Openat(dir, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return s.fail("open", err)
	}
	defer unix.Close(f)
	var st unix.Stat_t
	if err := unix.Fstat(f, &st); err != nil {
		return s.fail("stat", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return &StepError{Op: "chmod", Path: fmt.Sprintf("%q %s", s.Name, s.Address), Msg: "the path was replaced by something that is not a socket"}
	}
	if s.UID >= 0 || s.GID >= 0 {
		if err := unix.Fchownat(f, "", s.UID, s.GID, unix.AT_EMPTY_PATH); err != nil {
			return s.fail("chown", err)
		}
	}
	// chmod of the fd's /proc link changes the inode it names: no link is followed.
	if err := unix.Chmod("/proc/self/fd/"+strconv.Itoa(f), s.Mode); err != nil {
		return s.fail("chmod", err)
	}
	return nil
}

// removeStale removes a socket file that no process listens on: only a
// connect refused says so. A datagram or seqpacket socket answers a stream
// connect with EPROTOTYPE, and is somebody's live socket.
func (s *Socket) removeStale(dir int, name string) error {
	var st unix.Stat_t
	err := unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	switch {
	case err == unix.ENOENT:
		return nil
	case err != nil:
		return s.fail("stat", err)
	case st.Mode&unix.S_IFMT != unix.S_IFSOCK:
		return &StepError{Op: "bind", Path: fmt.Sprintf("%q %s", s.Name, s.Address), Msg: "the path exists and is not a socket"}
	}
	probe, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		return s.fail("socket", err)
	}
	err = unix.Connect(probe, &unix.SockaddrUnix{Name: dirPath(dir, name, s.Path)})
	unix.Close(probe)
	if err != unix.ECONNREFUSED {
		return s.fail("bind", unix.EADDRINUSE)
	}
	if err := unix.Unlinkat(dir, name, 0); err != nil && err != unix.ENOENT {
		return s.fail("unlink stale socket", err)
	}
	return nil
}

// fromSystemd takes a socket that systemd passed daemonbox by its name
// (FileDescriptorName=, or the socket unit's name): LISTEN_PID must be
// daemonbox's own pid, as sd_listen_fds(3) requires. The fd is duplicated
// close-on-exec; systemd's own number is closed or left like any inherited fd.
func (s *Socket) fromSystemd() (int, error) {
	where := fmt.Sprintf("%q %s", s.Name, s.Address)
	fail := func(format string, args ...any) (int, error) {
		return -1, &StepError{Op: "take", Path: where, Msg: fmt.Sprintf(format, args...)}
	}
	if pid := os.Getenv("LISTEN_PID"); pid != strconv.Itoa(os.Getpid()) {
		return fail("LISTEN_PID is %q, not daemonbox's pid %d: systemd passed it no sockets", pid, os.Getpid())
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n < 1 {
		return fail("LISTEN_FDS is %q: systemd passed daemonbox no sockets", os.Getenv("LISTEN_FDS"))
	}
	names := strings.Split(os.Getenv("LISTEN_FDNAMES"), ":")
	i := slices.Index(names, s.Systemd)
	if i < 0 || i >= n {
		return fail("no socket named %q in LISTEN_FDNAMES (%q)", s.Systemd, os.Getenv("LISTEN_FDNAMES"))
	}
	var st unix.Stat_t
	if err := unix.Fstat(3+i, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return fail("fd %d, named %q by systemd, is not an open socket", 3+i, s.Systemd)
	}
	fd, err := unix.FcntlInt(uintptr(3+i), unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return -1, s.fail("fcntl F_DUPFD_CLOEXEC", err)
	}
	return fd, nil
}

// listenFDs are the fds the daemon receives its n sockets at.
func listenFDs(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 3 + i
	}
	return out
}

// placeListen puts the sockets at fds 3 onward in this process, for a launch
// in place; daemonbox's fds in the way (the sockets themselves, stdio files)
// move above them first. An inherited fd there is the caller's, not
// preserved (the spec refuses that), and is replaced.
func placeListen(fds []int, stdio *[3]int) error {
	top := 3 + len(fds)
	held := []*int{&stdio[0], &stdio[1], &stdio[2]}
	for i := range fds {
		held = append(held, &fds[i])
	}
	for _, h := range held {
		if *h < 3 || *h >= top {
			continue
		}
		old := *h
		moved, err := unix.FcntlInt(uintptr(old), unix.F_DUPFD_CLOEXEC, top)
		if err != nil {
			return OpError("fcntl F_DUPFD_CLOEXEC", "fd "+strconv.Itoa(old), err)
		}
		for _, other := range held {
			if *other == old {
				*other = moved
			}
		}
		unix.Close(old)
	}
	for i, fd := range fds {
		// An fd there with close-on-exec set is daemonbox's or its
		// runtime's (an inherited one has none): replacing it would break
		// whoever holds it.
		if flags, err := unix.FcntlInt(uintptr(3+i), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC != 0 {
			return &StepError{Op: "dup3", Path: fmt.Sprintf("fd %d to %d", fd, 3+i), Msg: fmt.Sprintf("fd %d (%s) is daemonbox's own", 3+i, fdTarget(3+i))}
		}
		if err := unix.Dup3(fd, 3+i, unix.O_CLOEXEC); err != nil {
			return OpError("dup3", fmt.Sprintf("fd %d to %d", fd, 3+i), err)
		}
		unix.Close(fd)
		fds[i] = 3 + i
	}
	return nil
}

// fdTarget names what fd is open on, for an error about it.
func fdTarget(fd int) string {
	target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return "?"
	}
	return target
}

// listenEnv sets LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES for exec, in
// place of any the environment has. The pid is getpid(): this process is
// the one that execs the daemon, and after the pid1 step it is the pid the
// daemon sees in its PID namespace.
func (l *launch) listenEnv() error {
	if len(l.plan.Listen) == 0 {
		return nil
	}
	names := make([]string, len(l.plan.Listen))
	for i, s := range l.plan.Listen {
		names[i] = s.Name
	}
	env := slices.DeleteFunc(slices.Clone(l.plan.Env), func(v string) bool {
		return strings.HasPrefix(v, "LISTEN_FDS=") || strings.HasPrefix(v, "LISTEN_PID=") || strings.HasPrefix(v, "LISTEN_FDNAMES=")
	})
	pid := unix.Getpid()
	if l.one != nil {
		pid = oneImageDaemonPID // not yet forked; checked after the fork
	}
	l.env = append(env, "LISTEN_FDS="+strconv.Itoa(len(names)), "LISTEN_PID="+strconv.Itoa(pid),
		"LISTEN_FDNAMES="+strings.Join(names, ":"))
	return nil
}

// InheritedListen are the listen sockets of a process started with
// ChildFiles' layout (the detached supervisor): fds 3 onward, made
// close-on-exec so that only the layout of each stage passes them on.
func InheritedListen(l *Launch) []int {
	fds := listenFDs(len(l.Listen))
	for _, fd := range fds {
		unix.CloseOnExec(fd)
	}
	return fds
}
