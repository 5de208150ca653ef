// Command floor is the least one Go image can do to launch a command with
// bwrap's confinement in bench/isolation.sh: the steps issue 20's prototype
// took, in its order, and nothing else. No spec, no checks, no filter, no
// supervisor; any failure exits 1. It measures what a one-image launch
// costs on this machine before daemonbox adds anything of its own.
//
// Usage, as root: floor ROOT COMMAND [ARG...]
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// Locked in init, the first thread is never unlocked, so Go makes its
// other threads from its template thread and none shares this one's
// unshared fs struct.
func init() { runtime.LockOSThread() }

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: floor ROOT COMMAND [ARG...]")
		os.Exit(2)
	}
	root := os.Args[1]
	check("unshare", unix.Unshare(unix.CLONE_FS|unix.CLONE_NEWNS|unix.CLONE_NEWNET|
		unix.CLONE_NEWIPC|unix.CLONE_NEWUTS|unix.CLONE_NEWCGROUP))
	loopbackUp()
	check("rprivate /", unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""))
	check("bind root", unix.Mount(root, root, "", unix.MS_BIND|unix.MS_REC, ""))
	check("readonly root", unix.Mount("", root, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""))
	dev(root + "/dev")
	for c := 0; c <= unix.CAP_LAST_CAP; c++ {
		check("drop bounding", unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0))
	}
	check("no_new_privs", unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}
	// PID 1 starts before the pivot, from the host's path; the pivot then
	// moves its root and cwd into the sandbox.
	pid1, err := syscall.ForkExec("/usr/bin/catatonit", []string{"catatonit", "-P"}, &syscall.ProcAttr{
		Dir: "/", Files: []uintptr{0, 1, 2},
		Sys: &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWPID, Setsid: true, Credential: nobody, Pdeathsig: syscall.SIGKILL},
	})
	check("pid 1", err)
	pidns, err := unix.Open("/proc/"+strconv.Itoa(pid1)+"/ns/pid", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	check("pid namespace", err)
	check("chdir root", unix.Chdir(root))
	check("pivot_root", unix.PivotRoot(".", "."))
	check("detach old root", unix.Unmount(".", unix.MNT_DETACH))
	check("chdir /", unix.Chdir("/"))
	check("setns pid", unix.Setns(pidns, unix.CLONE_NEWPID))
	proc(pidns)
	pid, err := syscall.ForkExec(os.Args[2], os.Args[2:], &syscall.ProcAttr{
		Dir: "/", Env: []string{"PATH=/bin"}, Files: []uintptr{0, 1, 2},
		Sys: &syscall.SysProcAttr{Setsid: true, Credential: nobody},
	})
	check("command", err)
	var status syscall.WaitStatus
	_, err = syscall.Wait4(pid, &status, 0, nil)
	check("wait", err)
	syscall.Kill(pid1, syscall.SIGKILL)
	syscall.Wait4(pid1, nil, 0, nil)
	os.Exit(status.ExitStatus())
}

func check(what string, err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "floor: %s: %v\n", what, err)
		os.Exit(1)
	}
}

func loopbackUp() {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	check("socket", err)
	ifr, err := unix.NewIfreq("lo")
	check("lo", err)
	ifr.SetUint16(unix.IFF_UP)
	check("lo up", unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr))
	unix.Close(fd)
}

// dev is bwrap's --dev: a tmpfs with the host's six harmless nodes bound
// in and the fd links.
func dev(d string) {
	check("dev tmpfs", unix.Mount("tmpfs", d, "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=0755"))
	for _, n := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		fd, err := unix.Open(d+"/"+n, unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o666)
		check("dev node", err)
		unix.Close(fd)
		check("bind "+n, unix.Mount("/dev/"+n, d+"/"+n, "", unix.MS_BIND, ""))
	}
	for n, t := range map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		check("dev link", unix.Symlink(t, d+"/"+n))
	}
}

// proc mounts the PID namespace's /proc from outside it (procfs's pidns
// option, Linux 6.x).
func proc(pidns int) {
	fs, err := unix.Fsopen("proc", unix.FSOPEN_CLOEXEC)
	check("fsopen proc", err)
	check("proc pidns", unix.FsconfigSetFd(fs, "pidns", pidns))
	check("proc create", unix.FsconfigCreate(fs))
	m, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	check("fsmount proc", err)
	check("move /proc", unix.MoveMount(m, "", unix.AT_FDCWD, "/proc", unix.MOVE_MOUNT_F_EMPTY_PATH))
}
