package sandbox

import (
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
		return OpError("unshare", NamespaceNames(l.plan.Unshare), err)
	}
	return nil
}

func NamespaceNames(flags uintptr) string {
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
		return OpError("sethostname", l.plan.Hostname, err)
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
		return OpError("socket", "lo", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return OpError("ifreq", "lo", err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return OpError("ioctl SIOCGIFFLAGS", "lo", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return OpError("ioctl SIOCSIFFLAGS", "lo", err)
	}
	return nil
}

// notifySocket binds the daemon's NOTIFY_SOCKET in its new network
// namespace and passes it to the supervisor: an abstract name belongs to a
// network namespace, so the daemon could not reach the supervisor's own.
func (l *launch) notifySocket() error {
	if l.plan.Unshare&unix.CLONE_NEWNET == 0 || l.plan.NotifySocket == "" || (l.sock < 0 && l.one == nil) {
		return nil
	}
	fd, err := BindNotify(l.plan.NotifySocket)
	if err != nil {
		return err
	}
	if l.one != nil { // the supervisor itself launches: the socket is in its own fd table
		l.one.notify = fd
		return nil
	}
	defer unix.Close(fd)
	if err := sendNotify(l.sock, fd); err != nil {
		return OpError("send", "the notify socket", err)
	}
	return nil
}

// BindNotify binds a datagram socket that hears its senders' credentials
// (SO_PASSCRED) to the abstract name in the current network namespace: the
// sd_notify socket, which needs no file and so is reachable from a chroot.
func BindNotify(name string) (int, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, OpError("socket", "notify", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: "@" + name}); err != nil {
		unix.Close(fd)
		return -1, OpError("bind", "@"+name, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_PASSCRED, 1); err != nil {
		unix.Close(fd)
		return -1, OpError("setsockopt SO_PASSCRED", "@"+name, err)
	}
	return fd, nil
}
