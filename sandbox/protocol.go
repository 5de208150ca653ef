package sandbox

import (
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/sys/unix"
)

// daemonbox's stages talk over SOCK_SEQPACKET socketpairs, close-on-exec on
// both ends, one message per packet (encoded in codec.go).
//
// A supervisor and its init stage (Spawn and InitMain):
//
//	supervisor                                 init stage (daemonbox __daemonbox_init FD)
//	    |--- launch ---------------------------------->|  runs the steps in order
//	    |<-- notify + fd ------------------------------|  with a network namespace and a notify socket:
//	    |                                              |  the socket, bound inside it
//	    |<-- error {step, op, path, errno, msg} -------|  a step failed: it exits 125
//	    |<-- ready ------------------------------------|  every step passed; execve is next
//	    |          EOF                                 |  execve succeeded: the socket closed with it
//	    |<-- error {step "exec", ...} -----------------|  execve failed
//
// EOF before any message means the init stage died; the supervisor reports
// how, from its wait status. With a PID namespace, the init stage stays as
// its PID 1 and starts the daemon's own stage:
//
//	PID 1                                      the daemon's stage (daemonbox __daemonbox_init FD SUPERVISOR)
//	    |--- resume ---------------------------------->|  runs the steps after pid1
//
// which answers the supervisor itself, on the supervisor's socket that PID 1
// passed on, with "ready" or "error" as above; the kernel-given sender of
// "ready" is the daemon. When PID 1 forks the daemon itself (pid1fork.go),
// there is no such stage: PID 1 sends "ready" once the fork's exec
// succeeded, with SCM_CREDENTIALS naming the daemon's pid, which the kernel
// checks (PID 1 holds CAP_SYS_ADMIN over its PID namespace), then closes
// the socket; or "error" for the step that failed, the exec's included.
//
// A starter (daemonbox start) and the detached supervisor it spawns (Conn):
//
//	starter                                    supervisor (daemonbox __daemonbox_supervise FD)
//	    |--- plan ------------------------------------>|  claims the pidfile, launches as above
//	    |<-- started {pid} ----------------------------|  the daemon is ready: the starter exits 0
//	    |<-- error {step, op, path, errno, msg} -------|  it failed and cleaned up: the starter
//	    |                                              |  reaps it and exits non-zero
//
// EOF before either answer means the supervisor died.

// kind is what a message is.
type kind uint8

const (
	kindLaunch  kind = iota + 1 // the Launch, to a new stage
	kindResume                  // the Launch, to the daemon's stage under PID 1: from after pid1
	kindNotify                  // the notify socket, passed with SCM_RIGHTS
	kindReady                   // the stage execs next
	kindError                   // a StepError
	kindPlan                    // the whole Plan, to a detached supervisor
	kindStarted                 // the daemon is ready; with its pid
)

var kindNames = [...]string{kindLaunch: "launch", kindResume: "resume", kindNotify: "notify",
	kindReady: "ready", kindError: "error", kindPlan: "plan", kindStarted: "started"}

func (k kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind " + strconv.Itoa(int(k))
}

// message is every packet of the protocol; kind says which fields are set.
type message struct {
	kind   kind
	launch *Launch    // launch, resume
	plan   *Plan      // plan
	err    *StepError // error
	pid    int        // started: the daemon's pid
	fd     int        // notify: the socket passed with SCM_RIGHTS; not encoded
}

// maxMessage bounds one packet; a plan is a few kilobytes.
const maxMessage = 1 << 20

// ErrClosed means the other stage closed its end without an answer.
var ErrClosed = errors.New("closed without an answer")

func send(fd int, m message) error {
	b := encode(m)
	if len(b) > maxMessage {
		return fmt.Errorf("%s message is %d bytes, over %d", m.kind, len(b), maxMessage)
	}
	// A plan with a large environment can exceed the default socket buffer.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 2*len(b))
	_, err := unix.Write(fd, b)
	return err
}

func sendLaunch(fd int, k kind, l *Launch) error { return send(fd, message{kind: k, launch: l}) }
func sendReady(fd int) error                     { return send(fd, message{kind: kindReady}) }
func sendError(fd int, err *StepError) error     { return send(fd, message{kind: kindError, err: err}) }

// sendNotify passes the notify socket bound in the daemon's network namespace.
func sendNotify(sock, fd int) error {
	return unix.Sendmsg(sock, encode(message{kind: kindNotify}), unix.UnixRights(fd), nil, 0)
}

// awaitLaunch reads a stage's first message: its launch, and whether it
// resumes one under PID 1.
func awaitLaunch(fd int) (*Launch, bool, error) {
	m, _, err := recvFrom(fd)
	if err != nil {
		return nil, false, err
	}
	if err := expect(m, kindLaunch, kindResume); err != nil {
		return nil, false, err
	}
	return m.launch, m.kind == kindResume, nil
}

// recvFrom returns the next message and its sender's pid, as the kernel
// gives it when the socket has SO_PASSCRED (0 otherwise): in a PID namespace
// the daemon's stage is not the process the supervisor started, and says so
// this way. EOF gives ErrClosed.
func recvFrom(fd int) (*message, int, error) {
	size, err := nextSize(fd)
	if err != nil {
		return nil, 0, err
	}
	buf := make([]byte, size)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred)+unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(fd, buf, oob, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		if n == 0 {
			return nil, 0, ErrClosed
		}
		m, err := decode(buf[:n])
		m.fd = passedFD(oob[:oobn])
		if err != nil {
			if m.fd >= 0 {
				unix.Close(m.fd)
			}
			return nil, 0, fmt.Errorf("bad message from the other stage: %w", err)
		}
		return &m, SenderPID(oob[:oobn]), nil
	}
}

// nextSize waits for the next packet and returns its length without taking
// it, so that recvFrom allocates what the packet needs rather than
// maxMessage. A 1 MiB buffer a message would be a costly habit in a
// long-lived supervisor: each launch's messages took one, a restart or two
// brought the heap to its first collection, and from then on each reused
// buffer was zeroed whole, resident (docs/design.md, "Resident memory").
// The peek costs one system call. EOF gives 0, as recvmsg does.
func nextSize(fd int) (int, error) {
	var one [1]byte
	for {
		// With MSG_TRUNC, a unix socket returns the packet's whole length.
		n, _, _, _, err := unix.Recvmsg(fd, one[:], nil, unix.MSG_PEEK|unix.MSG_TRUNC)
		if err == unix.EINTR {
			continue
		}
		if err == nil && n > maxMessage {
			return 0, fmt.Errorf("bad message from the other stage: %d bytes, over %d", n, maxMessage)
		}
		return max(n, 1), err
	}
}

// passedFD returns the first fd passed with SCM_RIGHTS, -1 if none; any
// others are closed.
func passedFD(oob []byte) int {
	fd := -1
	msgs, _ := unix.ParseSocketControlMessage(oob)
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		for _, f := range fds {
			if fd < 0 && err == nil {
				fd = f
			} else {
				unix.Close(f)
			}
		}
	}
	return fd
}

// SenderPID reads the kernel-checked credentials (SCM_CREDENTIALS) of a
// message or datagram; 0 if it has none.
func SenderPID(oob []byte) int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for _, m := range msgs {
		if cred, err := unix.ParseUnixCredentials(&m); err == nil {
			return int(cred.Pid)
		}
	}
	return 0
}

// expect turns an unexpected message into an error that says what came.
func expect(m *message, kinds ...kind) error {
	for _, k := range kinds {
		if m.kind == k {
			return nil
		}
	}
	if m.fd >= 0 {
		unix.Close(m.fd)
	}
	return fmt.Errorf("unexpected message: got %s, want %v", m.kind, kinds)
}

// Conn is one end of the socket between daemonbox start and the detached
// supervisor it spawns.
type Conn struct{ fd int }

// NewConn wraps a socket's fd.
func NewConn(fd int) Conn { return Conn{fd} }

// SendPlan sends the supervisor its plan.
func (c Conn) SendPlan(p *Plan) error { return send(c.fd, message{kind: kindPlan, plan: p}) }

// AwaitPlan reads the plan a supervisor is started with.
func (c Conn) AwaitPlan() (*Plan, error) {
	m, _, err := recvFrom(c.fd)
	if err == nil {
		err = expect(m, kindPlan)
	}
	if err != nil {
		return nil, err
	}
	return m.plan, nil
}

// SendStarted tells the starter that the daemon, pid, is ready.
func (c Conn) SendStarted(pid int) error { return send(c.fd, message{kind: kindStarted, pid: pid}) }

// SendError tells the starter why the daemon did not start.
func (c Conn) SendError(err *StepError) error { return sendError(c.fd, err) }

// AwaitStarted reads the supervisor's answer: the daemon's pid, or the
// StepError it sent, ErrClosed if it died first, or what went wrong.
func (c Conn) AwaitStarted() (int, error) {
	m, _, err := recvFrom(c.fd)
	if err == nil {
		err = expect(m, kindStarted, kindError)
	}
	switch {
	case err != nil:
		return 0, err
	case m.kind == kindError:
		return 0, m.err
	}
	return m.pid, nil
}
