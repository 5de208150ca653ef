package sandbox

import (
	"os"
	"os/signal"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"
)

// unshare moves the launching thread into new namespaces: every one the
// plan asks for but pid, which the supervisor creates when it clones the
// init stage (a PID namespace is entered only by a new process). Only this
// thread moves; it is the one that execs, and exec ends the others.
func (l *launch) unshare() error {
	if l.plan.Unshare == 0 {
		return nil
	}
	if err := unix.Unshare(int(l.plan.Unshare)); err != nil {
		return opError("unshare", namespaceNames(l.plan.Unshare), err)
	}
	return nil
}

func namespaceNames(flags uintptr) string {
	names := ""
	for _, n := range []struct {
		flag uintptr
		name string
	}{{unix.CLONE_NEWNS, "mount"}, {unix.CLONE_NEWNET, "network"}, {unix.CLONE_NEWIPC, "ipc"},
		{unix.CLONE_NEWUTS, "uts"}, {unix.CLONE_NEWCGROUP, "cgroup"}, {unix.CLONE_NEWPID, "pid"},
		{unix.CLONE_NEWUSER, "user"}} {
		if flags&n.flag != 0 {
			if names != "" {
				names += ","
			}
			names += n.name
		}
	}
	return names
}

func (l *launch) hostname() error {
	if l.plan.Hostname == "" {
		return nil
	}
	if err := unix.Sethostname([]byte(l.plan.Hostname)); err != nil {
		return opError("sethostname", l.plan.Hostname, err)
	}
	return nil
}

// loopback brings lo up: a new network namespace has it, down.
func (l *launch) loopback() error {
	if l.plan.Unshare&unix.CLONE_NEWNET == 0 {
		return nil
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return opError("socket", "lo", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return opError("ifreq", "lo", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return opError("ioctl SIOCGIFFLAGS", "lo", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return opError("ioctl SIOCSIFFLAGS", "lo", err)
	}
	return nil
}

// notifySocket binds the daemon's NOTIFY_SOCKET in its new network
// namespace and passes it to the supervisor (see notifySocket.adopt).
func (l *launch) notifySocket() error {
	if l.plan.Unshare&unix.CLONE_NEWNET == 0 || l.plan.Ready != "notify" || l.sock < 0 {
		return nil
	}
	fd, err := bindNotify(l.plan.Env)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := sendFD(l.sock, message{Kind: "notify"}, fd); err != nil {
		return opError("send", "the notify socket", err)
	}
	return nil
}

// mounts prepares the root in the new mount namespace: "/" made private
// first, so that nothing propagates back to the host (P16), then a clone
// of the root with the plan's mounts in it, for the root step to pivot into.
func (l *launch) mounts() error {
	if l.plan.Unshare&unix.CLONE_NEWNS == 0 {
		return nil
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return opError("mount --make-rprivate", "/", err)
	}
	root, err := cloneRoot(l.plan.Root)
	if err != nil {
		return err
	}
	l.newRoot = root
	ms := &mountSet{root: root}
	if err := ms.makeTargets(l.plan.Mounts); err != nil {
		return err
	}
	for _, m := range l.plan.Mounts {
		if err := ms.apply(m); err != nil {
			return err
		}
	}
	return nil
}

// pivot makes the prepared root the root of the mount namespace and
// detaches the old one: unlike a chroot, nothing of the host's tree stays
// reachable. pivot_root(".", ".") stacks the old root over the new one,
// where it is unmounted.
func (l *launch) pivot() error {
	if err := unix.Fchdir(l.newRoot); err != nil {
		return opError("fchdir", l.plan.Root, err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return opError("pivot_root", l.plan.Root, err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return opError("umount", "the old root", err)
	}
	unix.Close(l.newRoot)
	l.newRoot = -1
	if err := unix.Chdir("/"); err != nil {
		return opError("chdir", "/", err)
	}
	return nil
}

// pid1 runs when daemonbox is PID 1 of a new PID namespace and the daemon
// is to be its child (namespaces.init, the default): the rest of the
// sequence runs in a new daemonbox process that becomes the daemon, and
// this one stays as the namespace's init. It returns only on failure.
func (l *launch) pid1() error {
	if !l.plan.Init {
		return nil
	}
	child := *l.plan // what is namespace-wide is done: mounts, root, hostname
	child.Unshare, child.PIDNS, child.Init, child.Hostname, child.Mounts, child.Root = 0, false, false, "", nil, "/"
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return opError("socketpair", "", err)
	}
	// The daemon's stage reads its plan from this stage, and answers the
	// supervisor itself, on this stage's socket: its "ready" carries its
	// own pid, and its exec closes the socket.
	sigs := make(chan os.Signal, 16) // before the fork: no SIGCHLD may be missed
	signal.Notify(sigs, initCaught()...)
	pid, err := forkInit([3]int{-1, -1, -1}, l.plan.Preserve,
		&syscall.SysProcAttr{Setsid: true, Pdeathsig: unix.SIGKILL}, pair[1], l.sock)
	unix.Close(pair[1])
	if err != nil {
		unix.Close(pair[0])
		return opError("fork", "the daemon's stage", err)
	}
	err = send(pair[0], message{Kind: "plan", Plan: &child})
	unix.Close(pair[0])
	unix.Close(l.sock)
	if err != nil {
		unix.Kill(pid, unix.SIGKILL)
	}
	// PID 1 keeps nothing the daemon could take from it with pidfd_getfd:
	// the status file is the host's /proc, opened before the pivot, and
	// the preserved fds are the daemon's now.
	unix.Close(l.status)
	closeInherited(func(int) bool { return false })
	os.Exit(reapAsInit(pid, sigs))
	return nil
}

// initForwarded are the signals PID 1 passes on to the daemon: the kernel
// sends PID 1 only the signals it handles, so these must be caught here.
var initForwarded = []os.Signal{unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1,
	unix.SIGUSR2, unix.SIGALRM, unix.SIGCONT, unix.SIGWINCH, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU}

// initCaught are the signals PID 1 catches: SIGCHLD, those it forwards,
// and every other one that the Go runtime would die of when sent by kill
// (SIGABRT, SIGSYS, ...). The daemon can send those to PID 1 when it runs
// as the same uid, as it does rootless; caught, they are dropped.
func initCaught() []os.Signal {
	var out []os.Signal
	for sig := syscall.Signal(1); sig < 32; sig++ {
		if sig != unix.SIGKILL && sig != unix.SIGSTOP && sig != unix.SIGURG { // SIGURG: the runtime's own
			out = append(out, sig)
		}
	}
	return out
}

// reapAsInit is PID 1's whole life: forward signals to the daemon, reap
// every process that ends up its child, and exit with the daemon's status
// once it ends, which ends the namespace and everything left in it.
func reapAsInit(daemon int, sigs chan os.Signal) int {
	for sig := range sigs {
		if sig != unix.SIGCHLD {
			if slices.Contains(initForwarded, sig) {
				unix.Kill(daemon, sig.(syscall.Signal))
			}
			continue
		}
		for {
			pid, status, err := waitAny(true)
			if err != nil || pid == 0 {
				break
			}
			if pid == daemon {
				return status
			}
		}
	}
	return ExitFailure
}
