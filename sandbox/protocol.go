package sandbox

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// daemonbox's stages talk over SOCK_SEQPACKET socketpairs, close-on-exec on
// both ends, one message per packet (encoded in codec.go).
//
// A supervisor and its init stage:
//
//	supervisor                                 init stage (daemonbox __daemonbox_init FD)
//	    |--- plan ------------------------------------>|  runs the steps in order
//	    |<-- notify + fd ------------------------------|  with a network namespace and ready = "notify":
//	    |                                              |  the notify socket, bound inside it
//	    |<-- error {step, op, path, errno, msg} -------|  a step failed: it exits 125
//	    |<-- ready ------------------------------------|  every step passed; execve is next
//	    |          EOF                                 |  execve succeeded: the socket closed with it
//	    |<-- error {step "exec", ...} -----------------|  execve failed
//
// EOF before any message means the init stage died; the supervisor reports
// how, from its wait status. With a PID namespace, the init stage stays as
// its PID 1 and starts the daemon's own stage, which receives the plan from
// it and sends "ready" or an error to the supervisor itself, on the same
// socket; the kernel-given sender of "ready" is the daemon.
//
// A starter (daemonbox start) and the detached supervisor it spawns:
//
//	starter                                    supervisor (daemonbox __daemonbox_supervise FD)
//	    |--- plan ------------------------------------>|  claims the pidfile, launches as above
//	    |<-- started {pid} ----------------------------|  the daemon is ready: the starter exits 0
//	    |<-- error {step, op, path, errno, msg} -------|  it failed and cleaned up: the starter
//	    |                                              |  reaps it and exits non-zero
//
// EOF before either answer means the supervisor died.

// message is every packet of the protocol; Kind says which fields are set.
type message struct {
	Kind  string // "plan", "ready", "started" or "error"
	Plan  *Plan
	Error *StepError
	PID   int // started: the daemon's pid
	fd    int // notify: the socket passed with SCM_RIGHTS; not encoded
}

// maxMessage bounds one packet; a plan is a few kilobytes.
const maxMessage = 1 << 20

func send(fd int, m message) error {
	b := encode(m)
	if len(b) > maxMessage {
		return fmt.Errorf("%s message is %d bytes, over %d", m.Kind, len(b), maxMessage)
	}
	// A plan with a large environment can exceed the default socket buffer.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 2*len(b))
	_, err := unix.Write(fd, b)
	return err
}

// sendFD sends m with an fd attached (SCM_RIGHTS).
func sendFD(sock int, m message, fd int) error {
	return unix.Sendmsg(sock, encode(m), unix.UnixRights(fd), nil, 0)
}

// recv returns the next message, or nil at EOF.
func recv(fd int) (*message, error) {
	m, _, err := recvFrom(fd)
	return m, err
}

// recvFrom also returns the sender's pid, as the kernel gives it when the
// socket has SO_PASSCRED (0 otherwise): in a PID namespace the daemon's
// stage is not the process the supervisor started, and says so this way.
func recvFrom(fd int) (*message, int, error) {
	buf := make([]byte, maxMessage)
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
			return nil, 0, nil
		}
		m, err := decode(buf[:n])
		m.fd = passedFD(oob[:oobn])
		if err != nil {
			if m.fd >= 0 {
				unix.Close(m.fd)
			}
			return nil, 0, fmt.Errorf("bad message from the other stage: %w", err)
		}
		return &m, senderPID(oob[:oobn]), nil
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

// expect turns an unexpected message into an error that says what came.
func expect(m *message, kinds ...string) error {
	for _, k := range kinds {
		if m.Kind == k {
			return nil
		}
	}
	return fmt.Errorf("unexpected message: got %q, want %q", m.Kind, kinds)
}
