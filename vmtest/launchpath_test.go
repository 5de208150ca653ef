package vmtest

import (
	"fmt"
	"github.com/daemonbox/daemonbox/cgroup"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The two launch paths of a root launch with a PID namespace (issue 20):
// one-image, where the supervisor launches the daemon from a thread of its
// own with catatonit as PID 1, and staged, through daemonbox's init
// stages. DAEMONBOX_LAUNCH forces one; these tests force each.

// fullIsolation is every namespace but user, a read-only root with /dev
// and a tmpfs, a hostname, and the suite's filter.
const fullIsolation = `[user]
user = "nobody"
[filesystem]
readonly = ["/"]
tmpfs = ["/media"]
dev = true
[namespaces]
pid = true
network = true
ipc = true
uts = true
cgroup = true
hostname = "boxed"
` + mechanismsOnly

// startsOneImage adapts a spec for a forced one-image start on cgroup v2,
// where a supervised daemon is cloned into its cgroup with clone3, which
// the default filter refuses, and where a cgroup namespace must be made
// from inside that cgroup; either takes stages (OneImageBlocker). So its
// filter lets clone3 through, and it has no cgroup namespace. On v1 the
// spec is as it was.
func startsOneImage(extra string) string {
	if !cgroup.V2() {
		return extra
	}
	extra = strings.Replace(extra, "cgroup = true\n", "", 1)
	const allow = `allow = ["@system-service",`
	if strings.Contains(extra, allow) {
		return strings.Replace(extra, allow, `allow = ["@system-service", "clone3",`, 1)
	}
	return extra + "[seccomp]\nallow = [\"@system-service\", \"clone3\"]\n"
}

// onPath runs the launch with the path forced.
func onPath(l launch, path string) launch {
	l.env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DAEMONBOX_LAUNCH=" + path}
	return l
}

func needCatatonit(t *testing.T) {
	t.Helper()
	need(t)
	if _, err := os.Stat("/usr/bin/catatonit"); err != nil {
		if strict {
			t.Fatal("the one-image path needs catatonit: apt-get install catatonit")
		}
		t.Skip("the one-image path needs catatonit: apt-get install catatonit")
	}
}

// needOneImage skips t where the one-image path cannot run: without
// catatonit (a failure in strict mode, since CI installs it), or on a
// kernel whose procfs takes no pidns, which mounting /proc from outside
// the PID namespace needs (Linux 6.15 and later take it; the VM's guest
// runs Debian 13's 6.12). That is the kernel's, not the setup's, so it
// skips in strict mode too, and the launch there takes stages (explain's
// pid 1 line says why; TestExplainNamesPID1).
func needOneImage(t *testing.T) {
	t.Helper()
	needCatatonit(t)
	if !procTakesPidns() {
		t.Skip("this kernel's procfs takes no pidns option (Linux 6.15 or later): the one-image path cannot run here")
	}
}

// procTakesPidns asks daemonbox, once, whether this kernel's procfs takes
// the pidns option: explain names the reason when it does not.
var procTakesPidns = sync.OnceValue(func() bool {
	f, err := os.CreateTemp("", "pidns-*.toml")
	if err != nil {
		return false
	}
	defer os.Remove(f.Name())
	f.WriteString("[process]\ncommand = [\"/bin/true\"]\n[namespaces]\npid = true\n")
	f.Close()
	out, _ := exec.Command(daemonbox, "explain", f.Name()).Output()
	return !strings.Contains(string(out), "procfs takes no pidns")
})

// pathDiffs are the known differences between the paths' reports. The
// daemon's pid in its namespace is 2 on one-image (PID 1 forks nothing)
// and whatever follows daemonbox's stages on staged; its session and
// group are its pid. Its parent is 0 on one-image, where the parent is
// the supervisor, outside the namespace, and 1 (daemonbox's PID 1) on
// staged. The namespaces are new on both, with other numbers (compared
// below as facts about the host's); fds 1 and 2 are pipes of each run.
var pathDiffs = []string{"pid", "ppid", "sid", "pgrp", "ns", "fd"}

// P31: the probe reports the same on both paths.
func TestLaunchPathsReportAlike(t *testing.T) {
	needOneImage(t)
	// The second run keeps a capability, which a daemon that is not root
	// gets through the ambient set that Go's fork child raises on the
	// one-image path (childCreds), and through the thread's steps staged.
	for i, mode := range []string{"report", "isolation", "report"} {
		spec := fmt.Sprintf("[process]\ncommand = [\"PROBE\", %q]\numask = \"0027\"\ncwd = \"/etc\"\n[rlimits]\ncore = 0\n%s", mode, fullIsolation)
		if i == 2 {
			spec += "[capabilities]\nkeep = [\"net_bind_service\"]\n"
		}
		one := onPath(launch{spec: spec}, "one-image").ok(t)
		staged := onPath(launch{spec: spec}, "staged").ok(t)
		for k := range mergedKeys(one, staged) {
			if !slices.Contains(pathDiffs, k) && !slices.Equal(one[k], staged[k]) {
				t.Errorf("%s: %s: one-image %q, staged %q", mode, k, one[k], staged[k])
			}
		}
		if mode == "report" {
			samePathFacts(t, one, staged)
		} else {
			sameNamespaceFacts(t, one, staged)
		}
	}
	mountsAlike(t)
}

func mergedKeys(a, b report) map[string]bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}

// samePathFacts checks the known differences as what they should be.
func samePathFacts(t *testing.T, one, staged report) {
	t.Helper()
	if one.one(t, "pid") != "2" || one.one(t, "ppid") != "0" || staged.one(t, "ppid") != "1" {
		t.Errorf("pid/ppid: one-image %s/%s (want 2/0), staged %s/%s (want ppid 1)",
			one["pid"], one["ppid"], staged["pid"], staged["ppid"])
	}
	for _, r := range []report{one, staged} {
		if r.one(t, "sid") != r.one(t, "pid") || r.one(t, "pgrp") != r.one(t, "pid") {
			t.Errorf("the daemon leads no session of its own: %v", r)
		}
	}
	// fds: the same numbers, each the same kind of file (the device and
	// flags; the inode of a pipe is each run's own).
	fdKinds := func(r report) []string {
		var out []string
		for _, v := range r["fd"] {
			f := strings.Fields(v)
			if len(f) == 4 {
				f[2] = "-"
			}
			out = append(out, strings.Join(f, " "))
		}
		return out
	}
	if a, b := fdKinds(one), fdKinds(staged); !slices.Equal(a, b) {
		t.Errorf("fds: one-image %q, staged %q", a, b)
	}
}

// sameNamespaceFacts: on both paths every namespace but user is new, and
// the user namespace is the host's.
func sameNamespaceFacts(t *testing.T, one, staged report) {
	t.Helper()
	for _, r := range []report{one, staged} {
		for _, v := range r["ns"] {
			name, ino, _ := strings.Cut(v, " ")
			if fresh := ino != hostNS(t, name); fresh != (name != "user") {
				t.Errorf("namespace %s new = %v", name, fresh)
			}
		}
		if len(r["ns"]) != 7 {
			t.Errorf("namespaces reported: %q", r["ns"])
		}
	}
}

// mountsAlike compares the daemon's mount table on both paths, without
// the numbers each mount gets (ids, device minors of fresh filesystems).
func mountsAlike(t *testing.T) {
	t.Helper()
	spec := "[process]\ncommand = [\"/bin/cat\", \"/proc/self/mountinfo\"]\n" + fullIsolation
	var tables [2]string
	for i, path := range []string{"one-image", "staged"} {
		r := onPath(launch{spec: spec}, path).do(t)
		if r.code != 0 {
			t.Fatalf("%s: cat mountinfo: exit %d: %s", path, r.code, r.stderr)
		}
		var lines []string
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			f := strings.Fields(line)
			if len(f) > 4 {
				lines = append(lines, strings.Join(f[4:], " "))
			}
		}
		tables[i] = strings.Join(lines, "\n")
	}
	if tables[0] != tables[1] || tables[0] == "" {
		t.Errorf("mounts differ:\none-image:\n%s\nstaged:\n%s", tables[0], tables[1])
	}
}

// pid1Of finds the host pid of PID 1 of pid's PID namespace.
func pid1Of(t *testing.T, pid int) int {
	t.Helper()
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if other, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && other == ns {
			status, _ := os.ReadFile("/proc/" + e.Name() + "/status")
			for _, line := range strings.Split(string(status), "\n") {
				if f := strings.Fields(line); len(f) > 1 && f[0] == "NSpid:" && f[len(f)-1] == "1" {
					n, _ := strconv.Atoi(e.Name())
					return n
				}
			}
		}
	}
	t.Fatalf("no PID 1 in the namespace of %d", pid)
	return 0
}

func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return string(b)
}

// checkOneImage checks that the daemon pid runs from one image: its parent
// is the supervisor, its PID 1 is catatonit, and no daemonbox stage is
// PID 1.
func checkOneImage(t *testing.T, pid int) (pid1 int) {
	t.Helper()
	if sup := cmdline(ppid(t, pid)); !strings.HasSuffix(sup, " supervisor\x00") {
		t.Errorf("the daemon's parent is %q, not its supervisor", sup)
	}
	pid1 = pid1Of(t, pid)
	if c := cmdline(pid1); c != "catatonit\x00-P\x00" {
		t.Errorf("PID 1 is %q, want catatonit -P", c)
	}
	if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid1)); filepath.Base(exe) != "catatonit" {
		t.Errorf("PID 1 runs %q", exe)
	}
	if in, _ := os.ReadFile(fmt.Sprintf("/proc/%d/root/proc/1/cmdline", pid)); string(in) != "catatonit\x00-P\x00" {
		t.Errorf("/proc/1 inside the namespace is %q", in)
	}
	return pid1
}

// One image: the daemon is the supervisor's child, PID 1 is catatonit,
// and no daemonbox PID 1 runs; stop ends PID 1 too, and a restart makes a
// new namespace with a new PID 1.
func TestOneImageLifecycle(t *testing.T) {
	needOneImage(t)
	l := newLifecycle(t, "restart = \"on-failure\"\n"+startsOneImage(strings.Replace(fullIsolation, "[user]\nuser = \"nobody\"\n", "", 1)), "wait")
	l.env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DAEMONBOX_LAUNCH=one-image"}
	l.must(t, "start")
	pid := l.pid(t)
	pid1 := checkOneImage(t, pid)
	if n := countProcs(t, ownName("probe")+" pid1\x00"); n != 0 {
		t.Errorf("%d daemonbox PID 1 stages run", n)
	}
	syscall.Kill(pid, syscall.SIGKILL) // a failure: restarted
	if !exited(pid1, 5*time.Second) {
		t.Fatal("PID 1 outlived the daemon it was started with")
	}
	var again int
	deadline := time.Now().Add(10 * time.Second)
	for again == 0 || again == pid {
		if time.Now().After(deadline) {
			t.Fatalf("no restart:\n%s", readLog(l.log))
		}
		time.Sleep(5 * time.Millisecond) // polling the pidfile another process writes; bounded
		if b, err := os.ReadFile(l.pidfile); err == nil {
			again, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
	}
	pid1 = checkOneImage(t, again)
	l.must(t, "stop")
	if !exited(again, 0) || !exited(pid1, 5*time.Second) {
		t.Error("stop returned while the daemon or its PID 1 lived")
	}
}

// P08, P09 on the one-image path: the daemon cannot reach PID 1
// (catatonit, of another uid) or its supervisor (outside its namespace):
// not their exe, environ, fds or memory, not by ptrace.
func TestOneImageInitUnreachable(t *testing.T) {
	needOneImage(t)
	for _, user := range []string{"nobody", "root"} {
		spec := fmt.Sprintf(`[process]
command = ["PROBE", "isolation", "write=/proc/1/exe", "read=/proc/1/exe", "read=/proc/1/environ", "read=/proc/1/mem",
  "read=/proc/1/fd/0", "read=/proc/1/root/etc/hostname", "ptrace=1", "kill=1"]
[user]
user = %q
[namespaces]
pid = true
`, user) + mechanismsOnly
		got := tries(onPath(launch{spec: spec}, "one-image").ok(t))
		for k, v := range got {
			if v == 0 {
				t.Errorf("as %s: %s succeeded", user, k)
			}
		}
	}
}

// Forced onto the one-image path, a plan that cannot take it fails with
// the reason, and nothing runs; left to choose, it takes the staged path.
func TestOneImageRefused(t *testing.T) {
	needOneImage(t)
	for _, c := range []struct{ extra, reason string }{
		{"[rlimits]\nnofile = 1024\n[namespaces]\npid = true\n", "rlimit nofile"},
		{"[process]\noom_score_adj = 100\n[namespaces]\npid = true\n", "oom_score_adj"},
		{"[namespaces]\npid = true\ninit = false\n", "init = false"},
		{"[user]\nuser = \"nobody\"\n[namespaces]\npid = true\nuser = true\n", "a user namespace"},
	} {
		spec := "[process]\ncommand = [\"PROBE\"]\n" + strings.Replace(c.extra, "[process]\n", "", 1)
		r := onPath(launch{spec: spec}, "one-image").do(t)
		if r.code != 125 || !strings.Contains(r.stderr, "DAEMONBOX_LAUNCH=one-image: ") || !strings.Contains(r.stderr, c.reason) || r.rep.has("end") {
			t.Errorf("%q: exit %d, stderr %q; want 125 naming %q", c.extra, r.code, r.stderr, c.reason)
		}
		if r := (launch{spec: spec}).do(t); r.code != 0 || !r.rep.has("end") {
			t.Errorf("%q, path left to choose: exit %d: %s", c.extra, r.code, r.stderr)
		}
	}
	r := onPath(launch{spec: "[process]\ncommand = [\"PROBE\"]\n[namespaces]\npid = true\n"}, "sideways").do(t)
	if r.code != 125 || !strings.Contains(r.stderr, `DAEMONBOX_LAUNCH="sideways"`) {
		t.Errorf("an unknown path: exit %d, %q", r.code, r.stderr)
	}
}

// A one-image launch that fails after PID 1 started leaves no process
// behind, and says which step failed.
func TestOneImageFailureLeavesNothing(t *testing.T) {
	needOneImage(t)
	before := procsIn(t)
	spec := "[process]\ncommand = [\"PROBE\"]\ncwd = \"/nonexistent\"\n" + fullIsolation
	r := onPath(launch{spec: spec}, "one-image").do(t)
	if r.code != 125 || !strings.Contains(r.stderr, `step "cwd": chdir /nonexistent`) {
		t.Errorf("exit %d, %q; want 125 at the cwd step", r.code, r.stderr)
	}
	if after := procsIn(t); after != before {
		t.Errorf("catatonit processes before %d, after %d", before, after)
	}
}

// procsIn counts catatonit processes.
func procsIn(t *testing.T) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		if exe, _ := os.Readlink("/proc/" + e.Name() + "/exe"); filepath.Base(exe) == "catatonit" {
			n++
		}
	}
	return n
}

// A one-image supervisor killed outright takes the namespace with it: the
// launch thread dies with it, and PID 1's parent-death signal is that
// thread's. The next start replaces the stale pidfile.
func TestOneImageSupervisorKilled(t *testing.T) {
	needOneImage(t)
	l := newLifecycle(t, startsOneImage("[namespaces]\npid = true\n"), "wait")
	l.env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DAEMONBOX_LAUNCH=one-image"}
	l.must(t, "start")
	pid := l.pid(t)
	pid1 := checkOneImage(t, pid)
	syscall.Kill(ppid(t, pid), syscall.SIGKILL)
	if !exited(pid, 5*time.Second) || !exited(pid1, 5*time.Second) {
		t.Fatal("the daemon or its PID 1 outlived the supervisor")
	}
	l.must(t, "start")
	if again := l.pid(t); again == pid {
		t.Error("the stale pid was kept")
	} else {
		checkOneImage(t, again)
	}
}

// On the one-image path no thread of the root supervisor, and not PID 1,
// carries the daemon's uid: a host process of that uid (another daemon
// running as nobody) could otherwise stop or kill the supervisor with
// tgkill, or end PID 1 and the namespace with it.
func TestOneImageNoSupervisorThreadAsDaemon(t *testing.T) {
	needOneImage(t)
	l := newLifecycle(t, startsOneImage(strings.Replace(fullIsolation, "[user]\nuser = \"nobody\"\n", "", 1)), "wait") // nobody is its own
	l.env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DAEMONBOX_LAUNCH=one-image"}
	l.must(t, "start")
	defer l.must(t, "stop")
	pid := l.pid(t)
	if uid := uidOf(t, pid); uid != "65534" {
		t.Fatalf("the daemon runs as uid %s, not nobody", uid)
	}
	sup := ppid(t, pid)
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", sup))
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		tid, _ := strconv.Atoi(task.Name())
		if uid := uidOf(t, tid); uid != "0" { // /proc/TID shows a thread too
			t.Errorf("supervisor thread %s runs as uid %s", task.Name(), uid)
		}
	}
	if uid := uidOf(t, checkOneImage(t, pid)); uid != "0" {
		t.Errorf("PID 1 runs as uid %s, not root, for a daemon running as nobody", uid)
	}
}

// uidOf is the real uid on a process's (or thread's) status Uid line.
func uidOf(t *testing.T, pid int) string {
	t.Helper()
	for line := range strings.Lines(procStatus(t, pid)) {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			return f[1]
		}
	}
	t.Fatalf("/proc/%d/status: no Uid line", pid)
	return ""
}

// While one-image launches of a daemon running as nobody go on, a thread
// of this test running as nobody sends SIGKILL to every tid after each
// supervisor's pid, as a host process of the daemon's uid could: none may
// reach the root supervisor (before the fork child took the uid change,
// 19 launches in 20 died this way).
func TestOneImageSupervisorOutOfReach(t *testing.T) {
	needOneImage(t)
	file := specFile(t, "[process]\ncommand = [\"PROBE\"]\n"+fullIsolation)
	for range 10 {
		cmd := exec.Command(daemonbox, "run", file)
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DAEMONBOX_LAUNCH=one-image"}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stop, done := make(chan struct{}), make(chan struct{})
		go hammerAsNobody(cmd.Process.Pid, stop, done)
		err := cmd.Wait()
		close(stop)
		<-done
		if err != nil {
			t.Fatalf("a one-image launch under a nobody's tgkill: %v", err)
		}
	}
}

// hammerAsNobody sends SIGKILL with tgkill to tids pid+1 to pid+63 of
// process pid until stop, from a thread of its own that takes uid nobody
// and is never given back: it ends with this goroutine.
func hammerAsNobody(pid int, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	runtime.LockOSThread()
	const nobody = 65534
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, nobody, nobody, nobody); e != 0 {
		return
	}
	for {
		select {
		case <-stop:
			return
		default:
		}
		for tid := pid + 1; tid < pid+64; tid++ {
			unix.Tgkill(pid, tid, unix.SIGKILL)
		}
	}
}
