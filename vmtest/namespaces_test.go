package vmtest

import (
	"crypto/sha256"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// tries maps each "try name=value errno" line of the isolation probe to
// its errno (0 success, -1 read something).
func tries(r report) map[string]int {
	out := map[string]int{}
	for _, v := range r["try"] {
		k, n, _ := strings.Cut(v, " ")
		out[k], _ = strconv.Atoi(n)
	}
	return out
}

func hostNS(t *testing.T, name string) string {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/"+name, &st); err != nil {
		t.Fatal(err)
	}
	return strconv.FormatUint(st.Ino, 10)
}

// isolated runs the isolation probe as nobody with the given extra spec
// text and probe arguments, and requires a complete report.
func isolated(t *testing.T, m mode, extra string, args ...string) report {
	t.Helper()
	cmd := `"PROBE", "isolation"`
	for _, a := range args {
		cmd += fmt.Sprintf(", %q", a)
	}
	return m.launch(fmt.Sprintf("[process]\ncommand = [%s]\n[user]\nuser = \"nobody\"\n%s%s", cmd, extra, mechanismsOnly)).ok(t)
}

// P12: each namespace alone is new, and every other one is the host's; the
// mount namespace comes with pid, as the format says. Rootless, the user
// namespace is new too, and only it.
func TestEachNamespace(t *testing.T) { eachMode(t, eachNamespace) }

func eachNamespace(t *testing.T, m mode) {
	all := []string{"pid", "mount", "network", "ipc", "uts", "cgroup"}
	procName := map[string]string{"pid": "pid", "mount": "mnt", "network": "net", "ipc": "ipc", "uts": "uts", "cgroup": "cgroup"}
	for _, ns := range all {
		t.Run(ns, func(t *testing.T) {
			r := isolated(t, m, fmt.Sprintf("[namespaces]\n%s = true\n", ns))
			got := map[string]string{}
			for _, v := range r["ns"] {
				k, ino, _ := strings.Cut(v, " ")
				got[k] = ino
			}
			for _, other := range all {
				name := procName[other]
				fresh := other == ns || ns == "pid" && other == "mount"
				if same := got[name] == hostNS(t, name); same == fresh {
					t.Errorf("namespaces.%s: %s namespace new = %v, want %v", ns, name, !same, fresh)
				}
			}
			if newUser := got["user"] != hostNS(t, "user"); newUser != m.rootless {
				t.Errorf("user namespace new = %v, want %v", newUser, m.rootless)
			}
		})
	}
}

// P12-P14 together: the daemon sees only its own processes, only lo (up),
// no host TCP or abstract socket, no host SysV IPC, its own hostname that
// it cannot change.
func TestAllNamespaces(t *testing.T) { eachMode(t, allNamespaces) }

func allNamespaces(t *testing.T, m mode) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	abstract := fmt.Sprintf("daemonbox-test-%d", os.Getpid())
	al, err := net.Listen("unix", "@"+abstract)
	if err != nil {
		t.Fatal(err)
	}
	defer al.Close()
	key := 0x5eed0000 + os.Getpid()%0xffff
	shm, _, e := syscall.Syscall(syscall.SYS_SHMGET, uintptr(key), 4096, unix.IPC_CREAT|0o666)
	if e != 0 {
		t.Fatal(e)
	}
	defer syscall.Syscall(syscall.SYS_SHMCTL, shm, unix.IPC_RMID, 0)

	r := isolated(t, m, "[namespaces]\npid = true\nnetwork = true\nipc = true\nuts = true\nhostname = \"boxed\"\ncgroup = true\n",
		"tcp="+strconv.Itoa(port), "abstract="+abstract, "kill="+strconv.Itoa(os.Getpid()), "shm="+strconv.Itoa(key))
	if h := r.one(t, "hostname"); h != "boxed" {
		t.Errorf("hostname %q", h)
	}
	if got := r.one(t, "sethostname"); got != errno(unix.EPERM) {
		t.Errorf("sethostname: errno %s, want EPERM", got)
	}
	if ifs := strings.Join(r["iface"], ","); ifs != "lo up" {
		t.Errorf("interfaces %q, want only lo, up", ifs)
	}
	// PID 1 (daemonbox) and the probe: /proc lists processes, not threads.
	if n := r.one(t, "procs"); n != "2" {
		t.Errorf("%s processes in /proc, want daemonbox's PID 1 and the probe", n)
	}
	want := map[string]int{
		"tcp=" + strconv.Itoa(port):         int(unix.ECONNREFUSED),
		"abstract=" + abstract:              int(unix.ECONNREFUSED),
		"kill=" + strconv.Itoa(os.Getpid()): int(unix.ESRCH),
		"shm=" + strconv.Itoa(key):          int(unix.ENOENT),
	}
	got := tries(r)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: errno %d, want %d", k, got[k], v)
		}
	}
}

// namespaces.init = false: the daemon itself is PID 1.
func TestDaemonAsPID1(t *testing.T) {
	need(t)
	r := launch{spec: "[process]\ncommand = [\"PROBE\"]\n[user]\nuser = \"nobody\"\n[namespaces]\npid = true\ninit = false\n"}.ok(t)
	if pid := r.one(t, "pid"); pid != "1" {
		t.Errorf("pid %s, want 1", pid)
	}
	r = launch{spec: "[process]\ncommand = [\"PROBE\"]\n[user]\nuser = \"nobody\"\n[namespaces]\npid = true\n"}.ok(t)
	// A child of PID 1 (staged), or of the supervisor outside the
	// namespace, as PID 2 (one-image).
	if pid, ppid := r.one(t, "pid"), r.one(t, "ppid"); pid == "1" || ppid != "1" && (ppid != "0" || pid != "2") {
		t.Errorf("pid %s ppid %s, want a child of PID 1 or of the supervisor", pid, ppid)
	}
}

// With a PID namespace, the daemon's status is daemonbox's, and signals
// reach it through PID 1.
func TestPIDNamespaceStatusAndSignals(t *testing.T) {
	need(t)
	r := launch{spec: "[process]\ncommand = [\"PROBE\", \"segv\"]\n[user]\nuser = \"nobody\"\n[namespaces]\npid = true\n"}.do(t)
	if r.code != 128+int(unix.SIGSEGV) {
		t.Errorf("exit %d, want %d\n%s", r.code, 128+int(unix.SIGSEGV), r.stderr)
	}
	l := newLifecycle(t, "[namespaces]\npid = true\n", "wait")
	l.must(t, "start")
	pid := l.pid(t)
	if cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); !strings.Contains(string(cmd), "probe") {
		t.Errorf("the pidfile names %d (%q), not the daemon", pid, cmd)
	}
	waitLog(t, l.log, "ready ") // its handlers are set: ready = "exec" returns before that
	l.must(t, "reload")
	waitLog(t, l.log, "signal 1\n")
	l.must(t, "stop")
	if !strings.Contains(readLog(l.log), "signal 15\n") || !exited(pid, 0) {
		t.Errorf("stop did not reach the daemon:\n%s", readLog(l.log))
	}
}

// P25 and P16: read-only root (submounts too, and no remount), a private
// tmpfs, masked files and directories, binds read-write and read-only;
// the host's mountinfo is byte-identical before, during and after.
// Rootless, daemonbox cannot create mount points in a root-owned root, so
// they are there already.
func TestMounts(t *testing.T) { eachMode(t, mounts) }

func mounts(t *testing.T, m mode) {
	before := mountinfo(t)
	spec, rw := mountsSpec(t, m)
	r := m.launch(spec).ok(t)
	got := tries(r)
	want := map[string]int{
		"write=/etc/x": int(unix.EROFS), "write=/tmp/x": 0, "read=/etc/key": 0, "read=/secret/s": int(unix.EACCES),
		"write=/rw/x": 0, "write=/ro/x": int(unix.EROFS),
		"remount=/": int(unix.EPERM), "mkdir=/dev/x": int(unix.EROFS),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d, want %d", k, got[k], v)
		}
	}
	if !fileExists(filepath.Join(rw, "x")) {
		t.Error("a write to the read-write bind did not reach the host")
	}
	if after := mountinfo(t); after != before {
		t.Errorf("the host's mountinfo changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// mountsSpec makes TestMounts' root and the spec that uses every mount
// feature in it; rw is the read-write bind's host directory.
func mountsSpec(t *testing.T, m mode) (spec, rw string) {
	dirs := []string{"etc", "secret", "data", "proc"}
	if m.rootless {
		dirs = append(dirs, "tmp", "dev", "rw", "ro")
	}
	root := jail(t, dirs...)
	os.WriteFile(filepath.Join(root, "etc/key"), []byte("k"), 0o644)
	os.WriteFile(filepath.Join(root, "secret/s"), []byte("s"), 0o644)
	rw, ro := rootDir(t), rootDir(t)
	os.Chmod(rw, 0o777)
	return fmt.Sprintf(`[process]
command = ["/probe", "isolation", "write=/etc/x", "write=/tmp/x", "read=/etc/key", "read=/secret/s", "read=/etc/masked",
  "write=/etc/masked", "write=/rw/x", "write=/ro/x", "write=/proc/sys/kernel/core_pattern", "remount=/", "mkdir=/dev/x"]
[user]
user = "nobody"
[filesystem]
root = %q
readonly = ["/"]
tmpfs = ["/tmp"]
masked = ["/secret", "/etc/key"]
dev = true
[[filesystem.bind]]
source = %q
target = "/rw"
[[filesystem.bind]]
source = %q
target = "/ro"
readonly = true
[namespaces]
pid = true
`, root, rw, ro) + mechanismsOnly, rw
}

// P25: readonly reaches the mounts under the path too (here the host's
// /dev/shm under a read-only "/").
func TestReadonlySubmounts(t *testing.T) { eachMode(t, readonlySubmounts) }

func readonlySubmounts(t *testing.T, m mode) {
	r := isolated(t, m, "[filesystem]\nreadonly = [\"/\"]\n", "write=/dev/shm/daemonbox-x", "remount=/dev/shm")
	got := tries(r)
	if got["write=/dev/shm/daemonbox-x"] != int(unix.EROFS) || got["remount=/dev/shm"] != int(unix.EPERM) {
		t.Errorf("a submount of a read-only path: %v", got)
	}
}

func mountinfo(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// P16 while a daemon with every mount feature runs.
func TestMountinfoWhileRunning(t *testing.T) { eachMode(t, mountinfoWhileRunning) }

func mountinfoWhileRunning(t *testing.T, m mode) {
	before := mountinfo(t)
	l := newLifecycleIn(t, m, "[namespaces]\npid = true\nnetwork = true\n[filesystem]\nreadonly = [\"/\"]\ntmpfs = [\"/media\"]\nmasked = [\"/etc/shadow\", \"/root\"]\n", "wait")
	l.must(t, "start")
	during := mountinfo(t)
	l.must(t, "stop")
	after := mountinfo(t)
	if during != before || after != before {
		t.Errorf("the host's mountinfo changed:\nbefore:\n%s\nduring:\n%s\nafter:\n%s", before, during, after)
	}
}

// P11: a symlink in a hostile root that points at a host path cannot make
// daemonbox create or mount anything outside the root.
func TestHostileRootSymlinks(t *testing.T) { eachMode(t, hostileRootSymlinks) }

func hostileRootSymlinks(t *testing.T, m mode) {
	victim := rootDir(t)
	root := jail(t)
	if err := os.Symlink(victim, filepath.Join(root, "data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../../../../"+strings.TrimPrefix(victim, "/"), filepath.Join(root, "up")); err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf("[process]\ncommand = [\"/probe\", \"isolation\"]\n[user]\nuser = \"nobody\"\n[filesystem]\nroot = %q\ntmpfs = [\"/data/made\", \"/up/made\"]\n", root)
	if r := m.launch(spec).do(t); r.code != 0 && (r.code != 125 || !strings.Contains(r.stderr, `step "mounts"`)) {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
	if entries, _ := os.ReadDir(victim); len(entries) != 0 {
		t.Errorf("daemonbox wrote through the root's symlinks onto the host: %v", entries)
	}
}

// P08 and P09: the daemon cannot reach daemonbox's PID 1: not its exe for
// writing, not its environ, not ptrace, not kill; the binary is unchanged.
func TestInitUnreachable(t *testing.T) { eachMode(t, initUnreachable) }

func initUnreachable(t *testing.T, m mode) {
	sum := func() [32]byte {
		b, err := os.ReadFile(daemonbox)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	before := sum()
	for _, user := range []string{"nobody", "root"} {
		spec := fmt.Sprintf(`[process]
command = ["PROBE", "isolation", "write=/proc/1/exe", "read=/proc/1/environ", "read=/proc/1/mem", "ptrace=1", "kill=1", "signals=1"]
[user]
user = %q
[namespaces]
pid = true
`, user) + mechanismsOnly
		got := tries(m.launch(spec).ok(t))
		// A daemon of PID 1's own uid (uid 0, or any rootless, where one
		// uid is mapped) may signal it; PID 1 must outlive every signal
		// and still forward SIGUSR1.
		sameUID := user == "root" || m.rootless
		for k, v := range got {
			switch {
			case k == "signals=1" && v != 0 && v != int(unix.EPERM):
				t.Errorf("as %s: PID 1 did not outlive the signals a daemon sent it (errno %d)", user, v)
			case k == "kill=1" && v == 0 && sameUID, k == "signals=1":
			case v == 0:
				t.Errorf("as %s: %s succeeded", user, k)
			}
		}
	}
	if sum() != before {
		t.Error("daemonbox's binary changed")
	}
}

// P17: a uid-0 daemon without capabilities cannot write kernel tunables
// through its /proc.
func TestKernelTunablesReadonly(t *testing.T) {
	need(t)
	spec := `[process]
command = ["PROBE", "isolation", "write=/proc/sys/kernel/core_pattern", "write=/proc/sys/kernel/modprobe",
  "write=/proc/sysrq-trigger", "write=/proc/sys/fs/binfmt_misc/register"]
[user]
user = "root"
[namespaces]
pid = true
`
	for k, v := range tries(launch{spec: spec}.ok(t)) {
		if v == 0 {
			t.Errorf("%s succeeded", k)
		}
	}
}

// ready = "notify" works from inside a network and a PID namespace: the
// notify socket is bound inside the daemon's network namespace, and the
// sender's pid is read as the host sees it.
func TestNotifyInsideNamespaces(t *testing.T) {
	need(t)
	for _, ns := range []string{"network = true\n", "pid = true\nnetwork = true\n"} {
		l := newLifecycle(t, "ready = \"notify\"\n[namespaces]\n"+ns, "notify")
		l.must(t, "start")
		if log := readLog(l.log); !strings.Contains(log, "status: serving") {
			t.Errorf("%s: STATUS= not heard:\n%s", ns, log)
		}
		pid := l.pid(t)
		l.must(t, "restart")
		if l.pid(t) == pid {
			t.Errorf("%s: restart kept pid %d", ns, pid)
		}
		l.must(t, "stop")
	}
}
