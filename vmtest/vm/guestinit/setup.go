package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"unsafe"
)

// mount is one file system that the guest mounts at boot.
type mount struct {
	source, target, fstype string
	flags                  uintptr
	data                   string
	mode                   os.FileMode
}

const nosuid = syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC

var mounts = []mount{
	{"proc", "/proc", "proc", nosuid, "", 0o555},
	{"sysfs", "/sys", "sysfs", nosuid, "", 0o555},
	{"devtmpfs", "/dev", "devtmpfs", syscall.MS_NOSUID, "mode=0755", 0o755},
	{"devpts", "/dev/pts", "devpts", syscall.MS_NOSUID | syscall.MS_NOEXEC, "ptmxmode=0666,mode=0620", 0o755},
	{"tmpfs", "/dev/shm", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=1777", 0o1777},
	{"cgroup2", "/sys/fs/cgroup", "cgroup2", nosuid, "nsdelegate", 0o555},
	{"securityfs", "/sys/kernel/security", "securityfs", nosuid, "", 0o755},
	{"tmpfs", "/tmp", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=1777", 0o1777},
	{"tmpfs", "/run", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=0755", 0o755},
}

// setup mounts the file systems, enables the cgroup controllers in the
// root's subtree, and brings the loopback interface up.
func setup() error {
	// The initramfs's root is a tmpfs of mode 01777; the tests' chroots
	// and the files daemonbox checks must have root-only ancestors.
	if err := os.Chmod("/", 0o755); err != nil {
		return fmt.Errorf("chmod /: %w", err)
	}
	if err := leaveRootfs(); err != nil {
		return err
	}
	for _, m := range mounts {
		if err := os.MkdirAll(m.target, m.mode); err != nil {
			return err
		}
		if err := syscall.Mount(m.source, m.target, m.fstype, m.flags, m.data); err != nil {
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.target, err)
		}
	}
	const controllers = "+memory +pids +cpu +io"
	if err := os.WriteFile("/sys/fs/cgroup/cgroup.subtree_control", []byte(controllers), 0); err != nil {
		return fmt.Errorf("enable %q in /sys/fs/cgroup/cgroup.subtree_control: %w", controllers, err)
	}
	// udev makes these on a host; devtmpfs does not, and daemons write
	// to /dev/stderr.
	for name, target := range map[string]string{"/dev/fd": "/proc/self/fd", "/dev/stdin": "/proc/self/fd/0",
		"/dev/stdout": "/proc/self/fd/1", "/dev/stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, name); err != nil && !os.IsExist(err) {
			return fmt.Errorf("symlink %s: %w", name, err)
		}
	}
	// As on a host that systemd runs, the tests run in a leaf cgroup, not
	// in the root: daemonbox makes its groups beside theirs.
	if err := os.Mkdir("/sys/fs/cgroup/init.scope", 0o755); err != nil {
		return fmt.Errorf("mkdir /sys/fs/cgroup/init.scope: %w", err)
	}
	if err := os.WriteFile("/sys/fs/cgroup/init.scope/cgroup.procs", []byte("0"), 0); err != nil {
		return fmt.Errorf("move init into /sys/fs/cgroup/init.scope: %w", err)
	}
	// Debian's kernels gate user namespaces for the unprivileged on this
	// switch; the rootless tests need them, as on the host.
	if _, err := os.Stat("/proc/sys/kernel/unprivileged_userns_clone"); err == nil {
		if err := os.WriteFile("/proc/sys/kernel/unprivileged_userns_clone", []byte("1"), 0); err != nil {
			return fmt.Errorf("write /proc/sys/kernel/unprivileged_userns_clone: %w", err)
		}
	}
	if err := syscall.Sethostname([]byte("vmtest")); err != nil {
		return fmt.Errorf("sethostname: %w", err)
	}
	return loopbackUp()
}

// leaveRootfs makes the root a bind mount of the initramfs instead of
// the initramfs itself: pivot_root(2), which daemonbox's root step calls
// in its mount namespace, refuses a root that is the kernel's rootfs
// (EINVAL), as it is on a host booted from an initramfs before
// switch_root. Nothing is copied.
func leaveRootfs() error {
	const dir = "/.root"
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("mkdir %s: %w", dir, err)
	}
	if err := syscall.Mount("/", dir, "", syscall.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind / on %s: %w", dir, err)
	}
	if err := syscall.Chdir(dir); err != nil {
		return fmt.Errorf("chdir %s: %w", dir, err)
	}
	if err := syscall.Mount(".", "/", "", syscall.MS_MOVE, ""); err != nil {
		return fmt.Errorf("move %s to /: %w", dir, err)
	}
	if err := syscall.Chroot("."); err != nil {
		return fmt.Errorf("chroot %s: %w", dir, err)
	}
	return syscall.Chdir("/")
}

// loopbackUp sets IFF_UP on lo, the guest's only network interface.
func loopbackUp() error {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer syscall.Close(fd)
	var req struct {
		name  [syscall.IFNAMSIZ]byte
		flags uint16
		_     [22]byte
	}
	copy(req.name[:], "lo")
	for _, call := range []uintptr{syscall.SIOCGIFFLAGS, syscall.SIOCSIFFLAGS} {
		if call == syscall.SIOCSIFFLAGS {
			req.flags |= syscall.IFF_UP
		}
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), call, uintptr(unsafe.Pointer(&req))); e != 0 {
			return fmt.Errorf("ioctl %#x on lo: %w", call, e)
		}
	}
	return nil
}

// checkKernel lists what the kernel tests need and this kernel lacks.
func checkKernel() []string {
	var missing []string
	for _, ns := range []string{"mnt", "pid", "net", "uts", "ipc", "user", "cgroup"} {
		if _, err := os.Stat("/proc/self/ns/" + ns); err != nil {
			missing = append(missing, fmt.Sprintf("the %s namespace (CONFIG_%s_NS): %v", ns, strings.ToUpper(ns), err))
		}
	}
	b, err := os.ReadFile("/sys/fs/cgroup/cgroup.subtree_control")
	have := strings.Fields(string(b))
	for _, c := range []string{"memory", "pids", "cpu", "io"} {
		if err != nil || !contains(have, c) {
			missing = append(missing, fmt.Sprintf("the cgroup v2 %s controller (enabled: %q, %v)", c, have, err))
		}
	}
	if _, err := os.Stat("/proc/sys/kernel/seccomp/actions_avail"); err != nil {
		missing = append(missing, fmt.Sprintf("seccomp filters (CONFIG_SECCOMP_FILTER): %v", err))
	}
	lsm, err := os.ReadFile("/sys/kernel/security/lsm")
	if err != nil || !contains(strings.Split(string(lsm), ","), "landlock") {
		missing = append(missing, fmt.Sprintf("Landlock among the LSMs (CONFIG_SECURITY_LANDLOCK, and lsm=landlock,... on the command line): %q %v", lsm, err))
	}
	return missing
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.TrimSpace(x) == s {
			return true
		}
	}
	return false
}
