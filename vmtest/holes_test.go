package vmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The tests below reproduce the attacks of an adversarial review, each of
// which got through before the fix it names.

// Every daemonbox process closes what it inherited: a pipe the caller left
// open reaches EOF once start returns (the supervisor held it, so that
// `daemonbox start spec 9>&1 | cat` waited for the daemon), and neither the
// supervisor nor PID 1 keeps a directory of the host's that a daemon allowed
// to ptrace PID 1 could take with pidfd_getfd. PID 1 holds no host path at
// all, and its root is the daemon's (P05, P09).
// As root, on both launch paths: PID 1 is daemonbox's on the staged path
// and catatonit on the one-image path, where the supervisor is the
// daemon's parent.
func TestStagesCloseInheritedFDs(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		if m.rootless {
			stagesCloseInheritedFDs(t, m, "")
			return
		}
		for _, path := range []string{"one-image", "staged"} {
			t.Run(path, func(t *testing.T) {
				if path == "one-image" {
					needOneImage(t)
				}
				stagesCloseInheritedFDs(t, m, path)
			})
		}
	})
}

func stagesCloseInheritedFDs(t *testing.T, m mode, path string) {
	ns := "[namespaces]\npid = true\n"
	if path == "one-image" {
		ns = startsOneImage(ns)
	}
	l := newLifecycleIn(t, m, ns, "wait")
	if path != "" {
		l.env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DAEMONBOX_LAUNCH=" + path}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	etc, _ := os.Open("/etc")
	slash, _ := os.Open("/")
	defer etc.Close()
	defer slash.Close()
	extra := make([]*os.File, 7) // fds 3 to 9
	extra[5-3], extra[8-3], extra[9-3] = etc, slash, w
	res := launch{cmd: "start", file: l.file, rootless: m.rootless, extra: extra, env: l.env}.do(t)
	w.Close()
	if res.code != 0 {
		t.Fatalf("start: exit %d, %s", res.code, res.stderr)
	}
	if !readsEOF(r, 10*time.Second) {
		t.Error("the caller's pipe stayed open after start returned: a daemonbox process kept it")
	}
	daemon := l.pid(t)
	pid1 := pid1Of(t, daemon)
	super := supervisorOf(t, daemon)
	for _, p := range []int{super, pid1} {
		for fd, target := range fdTargets(t, p) {
			if target == "/etc" || target == "/" {
				t.Errorf("pid %d holds the caller's %s at fd %d", p, target, fd)
			}
		}
	}
	for fd := range 3 {
		if got := fdTargets(t, super)[fd]; got != "/dev/null" {
			t.Errorf("the supervisor's fd %d is %q, want /dev/null", fd, got)
		}
	}
	for fd, target := range fdTargets(t, pid1) {
		if fd > 2 && strings.HasPrefix(target, "/") {
			t.Errorf("PID 1 holds %s of the host's at fd %d", target, fd)
		}
	}
	if a, b := devIno(t, procPath(pid1, "root")), devIno(t, procPath(daemon, "root")); a != b {
		t.Errorf("PID 1's root is %s, the daemon's %s", a, b)
	}
}

// supervisorOf is the daemon's supervisor: its parent on the one-image
// path, its PID 1's on the staged one.
func supervisorOf(t *testing.T, daemon int) int {
	t.Helper()
	for pid := ppid(t, daemon); pid > 1; pid = ppid(t, pid) {
		if strings.HasSuffix(cmdline(pid), " supervisor\x00") {
			return pid
		}
	}
	t.Fatalf("no supervisor above %d", daemon)
	return 0
}

// readsEOF waits up to d for r to report end of file.
func readsEOF(r *os.File, d time.Duration) bool {
	n, _ := unix.Poll([]unix.PollFd{{Fd: int32(r.Fd()), Events: unix.POLLIN}}, int(d.Milliseconds()))
	if n < 1 {
		return false
	}
	got, err := syscall.Read(int(r.Fd()), make([]byte, 16))
	return got == 0 && err == nil
}

// fdTargets maps each fd of pid to where its /proc link points.
func fdTargets(t *testing.T, pid int) map[int]string {
	t.Helper()
	dir := procPath(pid, "fd")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, e := range entries {
		fd, _ := strconv.Atoi(e.Name())
		out[fd], _ = os.Readlink(dir + "/" + e.Name())
	}
	return out
}

func procPath(pid int, name string) string { return "/proc/" + strconv.Itoa(pid) + "/" + name }

// A daemon that keeps CAP_SYS_PTRACE could seize daemonbox's PID 1 in its
// PID namespace and act with what PID 1 holds: such a spec is refused.
func TestPtraceOfPID1Refused(t *testing.T) { eachMode(t, ptraceOfPID1Refused) }

func ptraceOfPID1Refused(t *testing.T, m mode) {
	l := m.launch(minimal + "[user]\nuser = \"nobody\"\n[capabilities]\nkeep = [\"CAP_SYS_PTRACE\"]\n[namespaces]\npid = true\n")
	for _, cmd := range []string{"check", "run"} {
		l.cmd = cmd
		r := l.do(t)
		if r.code != 125 || !strings.Contains(r.stderr, "namespaces.init = false") || r.rep.has("end") {
			t.Errorf("%s: exit %d, %q; want 125 saying to set namespaces.init = false", cmd, r.code, r.stderr)
		}
	}
}

// A daemon that keeps CAP_SYS_CHROOT in a chroot without a mount namespace
// climbs out of it (chroot into a subdirectory, "..", chroot again): such a
// spec is refused, and with the mount namespace the message asks for, the
// same climb ends at the root's own top (P07).
func TestChrootEscapeRefused(t *testing.T) {
	need(t)
	root := jail(t, "sub")
	marker := filepath.Join(rootDir(t), "outside")
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := fmt.Sprintf(`[process]
command = ["/probe", "isolation", "escape=%s"]
[user]
user = "nobody"
[capabilities]
keep = ["CAP_SYS_CHROOT"]
[filesystem]
root = %q
[seccomp] # chroot is outside @system-service: let the climb reach the mount namespace
allow = ["@system-service", "chroot"]
`, marker, root)
	r := launch{spec: spec}.do(t)
	if r.code != 125 || !strings.Contains(r.stderr, "namespaces.mount = true") || r.rep.has("end") {
		t.Fatalf("without a mount namespace: exit %d, %q, climb %v; want 125 asking for namespaces.mount", r.code, r.stderr, r.rep["try"])
	}
	rep := launch{spec: spec + "[namespaces]\nmount = true\n"}.ok(t)
	if got := rep.one(t, "try"); got != "escape="+marker+" "+errno(syscall.ENOENT) {
		t.Errorf("with a mount namespace the climb gave %q, want ENOENT", got)
	}
}

// swapSetup is the review's layout for the symlink swap: base/x, a directory
// the daemon's user can change, holding link, a symlink to base/real; and
// base/target, a root-only directory the daemon wants root to write in.
type swapSetup struct{ x, link, real, target string }

func newSwapSetup(t *testing.T, xOwner int) swapSetup {
	t.Helper()
	base := rootDir(t)
	s := swapSetup{x: filepath.Join(base, "x"), real: filepath.Join(base, "real"), target: filepath.Join(base, "target")}
	s.link = filepath.Join(s.x, "logs")
	for dir, mode := range map[string]os.FileMode{s.x: 0o755, s.real: 0o755, s.target: 0o700} {
		if err := os.Mkdir(dir, mode); err != nil {
			t.Fatal(err)
		}
	}
	os.Chown(s.x, xOwner, xOwner)
	if err := os.Symlink(s.real, s.link); err != nil {
		t.Fatal(err)
	}
	return s
}

// swap re-points the link at the target, as the daemon would, once x is
// its own.
func (s swapSetup) swap(t *testing.T) {
	t.Helper()
	os.Chown(s.x, 65534, 65534)
	tmp := s.link + ".new"
	if err := os.Symlink(s.target, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, s.link); err != nil {
		t.Fatal(err)
	}
}

func (s swapSetup) targetFiles() []string {
	entries, _ := os.ReadDir(s.target)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

const swapSpec = `name = "swap"
[process]
command = ["PROBE", "wait"]
[user]
user = "nobody"
[fds]
stdout = %[1]q
stderr = %[1]q
[daemon]
pidfile = %[2]q
`

// A log or pidfile path through a directory the daemon can change is
// refused by check and start; and where the directory became the daemon's
// after the start, reopen-logs, status, stop and a second start refuse to go
// through it, so root never writes into the daemon's chosen directory and
// the single-instance lock holds (P23, P24).
func TestSymlinkSwapOnLogAndPidfile(t *testing.T) {
	need(t)
	s := newSwapSetup(t, 65534)
	file := specFile(t, fmt.Sprintf(swapSpec, filepath.Join(s.link, "out.log"), filepath.Join(s.link, "d.pid")))
	t.Cleanup(func() { launch{cmd: "stop", file: file}.do(t) }) // should the start go through
	for _, cmd := range []string{"check", "start"} {
		r := launch{cmd: cmd, file: file}.do(t)
		if r.code != 125 || !strings.Contains(r.stderr, "the directory "+s.x+" is writable by the daemon (its owner, uid 65534)") {
			t.Errorf("%s through a directory of the daemon's: exit %d, %q", cmd, r.code, r.stderr)
		}
	}

	logs, run := newSwapSetup(t, 0), newSwapSetup(t, 0)
	file = specFile(t, fmt.Sprintf(swapSpec, filepath.Join(logs.link, "out.log"), filepath.Join(run.link, "d.pid")))
	ctl := func(cmd string) result { return launch{cmd: cmd, file: file}.do(t) }
	if r := ctl("start"); r.code != 0 {
		t.Fatalf("start: exit %d, %s", r.code, r.stderr)
	}
	defer func() {
		run.restore()
		ctl("stop")
	}()
	logs.swap(t)
	if r := ctl("reopen-logs"); r.code != 0 {
		t.Errorf("reopen-logs: exit %d, %s", r.code, r.stderr)
	}
	waitLog(t, filepath.Join(logs.real, "out.log"), "reopen logs: ")
	run.swap(t)
	if r := ctl("status"); r.code != 4 || !strings.Contains(r.stdout, "writable by the daemon") {
		t.Errorf("status after the swap: exit %d, %q; want 4 (unknown) naming the directory", r.code, r.stdout)
	}
	if r := ctl("stop"); r.code == 0 {
		t.Errorf("stop after the swap: exit 0 while the daemon runs on")
	}
	if r := ctl("start"); r.code == 0 {
		t.Errorf("a second start after the swap: exit 0")
	}
	for _, s := range []swapSetup{logs, run} {
		if names := s.targetFiles(); len(names) > 0 {
			t.Errorf("root wrote %v into the daemon's chosen directory", names)
		}
	}
}

// restore puts the link and x back as they were before the swap.
func (s swapSetup) restore() {
	os.Chown(s.x, 0, 0)
	os.Remove(s.link)
	os.Symlink(s.real, s.link)
}

// With a mount namespace, the host's /sys is read-only, submounts too: the
// review, as uid 0 without capabilities in pid and mount namespaces with
// "/" as the root, wrote kernel settings and created a file on the cgroup
// tmpfs. Firmware tables are masked; a tmpfs the spec mounts under /sys
// stays writable (P17, P25).
func TestSysReadonly(t *testing.T) { eachMode(t, sysReadonly) }

func sysReadonly(t *testing.T, m mode) {
	const planted = "/sys/fs/cgroup/daemonbox-test-file" // on a cgroup v1 host, a tmpfs
	writes := []string{"/sys/kernel/mm/transparent_hugepage/enabled", "/sys/power/state",
		"/sys/module/printk/parameters/time", planted}
	cmd := `"PROBE", "isolation", "write=/sys/kernel/debug/x", "read=/sys/firmware/memmap/0/type"`
	for _, w := range writes {
		cmd += fmt.Sprintf(", \"write=%s\"", w)
	}
	spec := fmt.Sprintf("[process]\ncommand = [%s]\n[filesystem]\ntmpfs = [\"/sys/kernel/debug\"]\n[namespaces]\npid = true\n", cmd)
	got := tries(m.launch(spec).ok(t))
	for _, w := range writes {
		if e := got["write="+w]; e != int(syscall.EROFS) && !(m.rootless && e == int(syscall.EACCES)) {
			t.Errorf("open %s for writing: errno %d, want EROFS", w, e)
		}
	}
	if e := got["write=/sys/kernel/debug/x"]; e != 0 {
		t.Errorf("a tmpfs under /sys: errno %d, want writable", e)
	}
	if _, err := os.Stat("/sys/firmware/memmap/0/type"); err == nil && got["read=/sys/firmware/memmap/0/type"] == -1 {
		t.Error("/sys/firmware is readable, want it masked")
	}
	if _, err := os.Stat(planted); err == nil {
		os.Remove(planted)
		t.Error("the daemon created a file on the host's /sys/fs/cgroup")
	}
}

// status names an empty pidfile that no supervisor holds for what it is,
// instead of "pid 0".
func TestStatusOfEmptyStalePidfile(t *testing.T) {
	need(t)
	l := newLifecycle(t, "", "wait")
	if err := os.WriteFile(l.pidfile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := l.do(t, "status")
	if r.code != 1 || !strings.Contains(r.stdout, "remains, empty: its supervisor ended while the daemon was starting or restarting") {
		t.Errorf("status: exit %d, %q", r.code, r.stdout)
	}
}

// A daemon that keeps a capability overriding file permissions changes any
// directory it sees, not only its own: a log path inside its root is refused
// (it could swap a directory there for a symlink to /etc and have root
// create and append to a file at reopen-logs). In a user namespace the same
// capability reaches every directory of the mapped ids, as a shifted root's
// are. Found by a second review.
func TestLogInsideRootWithOverridingCapabilities(t *testing.T) {
	need(t)
	root := jail(t, "log")
	log := filepath.Join(root, "log", "out.log")
	base := fmt.Sprintf(`[process]
command = ["/probe"]
[user]
user = "nobody"
[filesystem]
root = %q
[fds]
stderr = %q
`, root, log)
	cases := []struct{ name, extra, want string }{
		{"DAC_OVERRIDE", "[capabilities]\nkeep = [\"CAP_DAC_OVERRIDE\"]\n[namespaces]\npid = true\n",
			"the directory " + root + " is writable by the daemon (it keeps CAP_DAC_OVERRIDE and sees it)"},
		{"FOWNER in a user namespace", "[capabilities]\nkeep = [\"CAP_FOWNER\"]\n[namespaces]\npid = true\nuser = true\n" +
			"uid_map = [{inside = 0, outside = 100000, count = 65536}]\ngid_map = [{inside = 0, outside = 100000, count = 65536}]\n",
			"the directory " + filepath.Join(root, "log") + " is writable by the daemon (its owner, uid 100000)"},
	}
	os.Chown(filepath.Join(root, "log"), 100000, 100000)
	for _, c := range cases {
		spec := strings.Replace(base, `user = "nobody"`, `user = 65534`+"\ngroup = 65534", 1) + c.extra
		r := launch{cmd: "check", spec: spec}.do(t)
		if r.code != 125 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, %q; want 125 saying %q", c.name, r.code, r.stderr, c.want)
		}
	}
	// Without the capability, the same spec runs.
	if r := (launch{spec: base + "[namespaces]\npid = true\n"}).do(t); r.code != 0 {
		t.Errorf("without a capability: exit %d, %s", r.code, r.stderr)
	}
}

// With a user namespace that owns the mount namespace, CAP_SYS_ADMIN could
// remount read-only and masked paths writable, /sys among them: refused.
func TestSysAdminOverMountsRefused(t *testing.T) { eachMode(t, sysAdminOverMountsRefused) }

func sysAdminOverMountsRefused(t *testing.T, m mode) {
	spec := minimal + "[user]\nuser = \"nobody\"\n[capabilities]\nkeep = [\"CAP_SYS_ADMIN\"]\n[filesystem]\nreadonly = [\"/\"]\n[namespaces]\nuser = true\npid = true\n"
	l := m.launch(spec)
	l.spec = spec // user = true already
	r := l.do(t)
	if r.code != 125 || !strings.Contains(r.stderr, "CAP_SYS_ADMIN would let the daemon remount writable") || r.rep.has("end") {
		t.Errorf("exit %d, %q; want 125 refusing CAP_SYS_ADMIN", r.code, r.stderr)
	}
}

// The guard knows the daemon's reach by what the directories are, not by
// their names: a log reached through the real path of a bind source given
// as a symlink is in reach. And with "/" as its root but /etc read-only, a
// uid-0 daemon cannot write /etc itself, so a log path it could swap is
// refused rather than left unguarded. Found by a third review.
func TestReachByIdentityAndNarrowedRoot(t *testing.T) {
	need(t)
	base := rootDir(t)
	real := filepath.Join(base, "real")
	os.MkdirAll(filepath.Join(real, "logs"), 0o755)
	os.Symlink(real, filepath.Join(base, "alias"))
	root := jail(t, "data")
	spec := fmt.Sprintf(`[process]
command = ["/probe"]
[user]
user = 1500
group = 1500
[filesystem]
root = %q
[[filesystem.bind]]
source = %q
target = "/data"
[namespaces]
pid = true
[capabilities]
keep = ["CAP_CHOWN"]
[fds]
stdout = %q
`, root, filepath.Join(base, "alias"), filepath.Join(real, "logs", "out.log"))
	r := launch{cmd: "check", spec: spec}.do(t)
	if r.code != 125 || !strings.Contains(r.stderr, "the directory "+real+" is writable by the daemon (it keeps CAP_CHOWN and sees it)") {
		t.Errorf("a bind source given as a symlink: exit %d, %q", r.code, r.stderr)
	}
	logs := rootDir(t)
	spec = fmt.Sprintf("%s[filesystem]\nreadonly = [\"/etc\"]\n[namespaces]\npid = true\n[fds]\nstdout = %q\n", minimal, filepath.Join(logs, "out.log"))
	r = launch{cmd: "check", spec: spec}.do(t)
	if r.code != 125 || !strings.Contains(r.stderr, "the directory / is writable by the daemon") {
		t.Errorf("a uid-0 daemon with a read-only /etc: exit %d, %q", r.code, r.stderr)
	}
	if r := (launch{cmd: "check", spec: strings.Replace(spec, "readonly = [\"/etc\"]\n", "", 1)}).do(t); r.code != 0 {
		t.Errorf("a uid-0 daemon that can write the whole host itself: exit %d, %q", r.code, r.stderr)
	}
}
