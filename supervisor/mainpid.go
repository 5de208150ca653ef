package supervisor

import (
	"os"
	"strconv"
	"time"

	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// underInit records that the daemon is pid, the child of the PID 1 that
// daemonbox started: pid goes in the pidfile and gets the signals, and the
// daemon ends when PID 1 does, which is when pid does.
func (d *daemon) underInit(pid int) error {
	d.mainPID, d.pid1 = pid, true
	fd, err := unix.PidfdOpen(pid, 0)
	switch {
	case err == unix.ESRCH:
		return nil // it ended already; PID 1 reaped it and exits with its status
	case err != nil:
		return sandbox.AtStep("init", sandbox.OpError("pidfd_open", "the daemon "+strconv.Itoa(pid), err))
	}
	d.target = fd
	return nil
}

// namespaced says whether the daemon runs in a PID namespace of its own,
// whose numbers MAINPID= would give, and whose PID 1 reaps the processes
// the daemon leaves, so that none can be handed over to.
func (d *daemon) namespaced() bool { return d.pid1 || d.image != nil }

// watch sends the daemon's status to d.exited once it has exited, leaving
// it a zombie if it is the supervisor's child. A main process named by
// MAINPID= may be another's child, whose parent reaps it: its status is
// not the supervisor's to read, and counts as 0.
func (d *daemon) watch() {
	fd := d.pidfd
	go func() {
		awaitExit(fd)
		code, _ := sandbox.WaitPidfd(fd, false)
		d.exited <- code
	}()
}

// adoptNotify takes the notify socket an init stage bound in the daemon's
// network namespace.
func (s *supervisor) adoptNotify(fd int) {
	if s.notify == nil {
		unix.Close(fd)
		return
	}
	s.notify.adopt(fd)
}

func (s *supervisor) notices() <-chan received {
	if s.notify == nil {
		return nil
	}
	return s.notify.in
}

// heard acts on a datagram: only the daemon's own are believed (and, once
// it named one, its main process's).
func (s *supervisor) heard(d *daemon, r received) {
	if r.pid != d.pid && r.pid != d.mainPID {
		return
	}
	n := r.n
	if n.status != "" {
		s.logf("%s: status: %s", s.plan.Name, n.status)
	}
	if n.mainPID > 0 && n.mainPID != d.pid && !d.namespaced() {
		s.follow(d, n.mainPID) // in a PID namespace, the number would be the namespace's
	}
	if n.stopping {
		s.logf("%s: stopping", s.plan.Name)
	}
	if n.ready && !d.ready && s.plan.Ready == spec.ReadyNotify {
		s.ready(d)
	}
	d.pinged = d.pinged || n.watchdog
}

// handOver is called when the process daemonbox started has exited. If it
// named another with MAINPID= (a forking daemon), that one becomes the
// daemon: the first is reaped and the watch moves on; false means the
// daemon has ended.
func (s *supervisor) handOver(d *daemon) bool {
	s.syncNotices(d) // a MAINPID= sent just before the exit still counts
	if d.mainPID == 0 || d.namespaced() {
		return false
	}
	sandbox.WaitPidfd(d.pidfd, true)
	unix.Close(d.pidfd)
	d.pid, d.pidfd, d.mainPID = d.mainPID, d.target, 0
	d.watch()
	return true
}

// syncNotices acts on every datagram that reached the notify socket before
// now. A datagram socket keeps its queue in order, so the supervisor sends
// itself a marker and reads up to it.
func (s *supervisor) syncNotices(d *daemon) {
	if s.notify == nil {
		return
	}
	mark := s.notify.mark()
	bound := time.NewTimer(time.Second)
	defer bound.Stop()
	for {
		select {
		case r := <-s.notify.in:
			if r.pid == os.Getpid() && r.n.mark == mark {
				return
			}
			s.heard(d, r)
		case <-bound.C:
			return
		}
	}
}

// follow makes pid, named by MAINPID=, the process that the pidfile names
// and that signals go to; when the process daemonbox started exits, pid
// becomes the daemon (handOver). Only one of the daemon's own processes can
// be named: the pidfd is opened first and checked alive after the check of
// its ancestry, so the check was of that process and not of a reused pid.
func (s *supervisor) follow(d *daemon, pid int) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		s.warnf("%s: MAINPID=%d: %v", s.plan.Name, pid, err)
		return
	}
	if !descends(pid) || unix.PidfdSendSignal(fd, 0, nil, 0) != nil {
		s.warnf("%s: MAINPID=%d is not one of the daemon's processes; ignored", s.plan.Name, pid)
		unix.Close(fd)
		return
	}
	if d.target != d.pidfd {
		unix.Close(d.target)
	}
	d.target = fd
	d.mainPID = pid
	if d.ready {
		if err := s.writePID(pid); err != nil {
			s.errorf("%v", err)
		}
	}
}

func (s *supervisor) mainPID(d *daemon) int {
	if d.mainPID > 0 {
		return d.mainPID
	}
	return d.pid
}
