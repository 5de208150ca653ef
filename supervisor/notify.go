package supervisor

import (
	"encoding/hex"
	"github.com/daemonbox/daemonbox/sandbox"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The sd_notify protocol: the daemon sends datagrams of NAME=value lines to
// the socket named by $NOTIFY_SOCKET. daemonbox binds an abstract socket
// ("@" in the variable): it needs no file, so it is reachable from inside a
// chroot, and it vanishes with the supervisor. Anyone in the network
// namespace can send to it, so each datagram carries its sender's
// credentials (SO_PASSCRED) and only the daemon's are believed.

// notice is one datagram from the daemon.
type notice struct {
	ready, stopping bool
	watchdog        bool // WATCHDOG=1
	status          string
	mainPID         int
	mark            string // the supervisor's own marker (syncNotices)
}

// notifySocket is the supervisor's end.
type notifySocket struct {
	fd    int
	netns int    // the same name bound in the daemon's network namespace, or -1
	name  string // the abstract name, without the leading NUL
	in    chan received
	marks int
}

type received struct {
	pid int
	n   notice
}

func newNotifySocket() (*notifySocket, error) {
	var random [8]byte
	if _, err := unix.Getrandom(random[:], 0); err != nil {
		return nil, sandbox.OpError("getrandom", "", err)
	}
	name := "daemonbox/notify/" + hex.EncodeToString(random[:])
	fd, err := sandbox.BindNotify(name)
	if err != nil {
		return nil, err
	}
	s := &notifySocket{fd: fd, netns: -1, name: name, in: make(chan received, 16)}
	go s.receive(fd)
	return s, nil
}

// An abstract name belongs to a network namespace: a daemon in its own
// cannot reach the supervisor's socket. So the init stage binds the same
// name inside the new namespace and passes the socket up (see bindNotify);
// the supervisor reads from it as from its own.
func (s *notifySocket) adopt(fd int) {
	if s.netns >= 0 {
		shutdownClose(s.netns) // the previous run's namespace goes with it
	}
	unix.CloseOnExec(fd)
	s.netns = fd
	go s.receive(fd)
}

func (s *notifySocket) receive(fd int) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	for {
		n, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return // closed: in stays open and silent, never read as a stream of empty notices
		}
		pid := sandbox.SenderPID(oob[:oobn])
		if pid > 0 {
			s.in <- received{pid: pid, n: parseNotice(string(buf[:n]))}
		}
	}
}

func parseNotice(text string) notice {
	var n notice
	for _, line := range strings.Split(text, "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "READY":
			n.ready = v == "1"
		case "WATCHDOG":
			n.watchdog = v == "1"
		case "STOPPING":
			n.stopping = v == "1"
		case "STATUS":
			n.status = v
		case "MAINPID":
			n.mainPID, _ = strconv.Atoi(v)
		case markKey:
			n.mark = v
		}
	}
	return n
}

const markKey = "X_DAEMONBOX_MARK"

// mark sends the socket a marker datagram of its own and returns it.
func (s *notifySocket) mark() string {
	s.marks++
	v := strconv.Itoa(s.marks)
	fd := s.fd
	if s.netns >= 0 {
		fd = s.netns // the daemon's datagrams queue there: the marker must too
	}
	unix.Sendto(fd, []byte(markKey+"="+v), 0, &unix.SockaddrUnix{Name: "@" + s.name})
	return v
}

// close wakes the receiving goroutines, then releases the sockets.
func (s *notifySocket) close() {
	shutdownClose(s.fd)
	if s.netns >= 0 {
		shutdownClose(s.netns)
	}
}

func shutdownClose(fd int) {
	unix.Shutdown(fd, unix.SHUT_RDWR)
	unix.Close(fd)
}

// notifyManager tells the service manager that started daemonbox (systemd
// with Type=notify sets NOTIFY_SOCKET, the plan's Manager) what the supervised
// daemon told us. "@name" is abstract, as x/sys/unix reads it.
func notifyManager(path, state string) {
	if path == "" {
		return
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	// Best effort, as sd_notify is: a manager that is gone cannot be told.
	_ = unix.Sendto(fd, []byte(state), 0, &unix.SockaddrUnix{Name: path})
}
