package vmtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daemonbox/daemonbox/cgroup"
)

// P28 and P29: the daemon's own cgroup, its limits, and stop ending
// everything in it. Each test uses a parent of its own, removed at its end.

// cgroupParent returns a parent cgroup path unique to t, and removes it
// (with whatever an in-place run left below it) when t ends.
func cgroupParent(t *testing.T) string {
	t.Helper()
	parent := fmt.Sprintf("daemonbox-vmtest/%s-%d", strings.ToLower(t.Name()), os.Getpid())
	t.Cleanup(func() {
		for _, p := range []string{parent, filepath.Dir(parent)} {
			if g, err := cgroup.New(p); err == nil && g.Exists() {
				g.Kill(5 * time.Second)
				g.Remove()
			}
		}
	})
	return parent
}

// removeRecordAtEnd removes, when t ends, the record that an in-place run
// of the daemon name leaves in /run/daemonbox: nothing stays to remove it.
func removeRecordAtEnd(t *testing.T, name string) {
	t.Cleanup(func() { os.Remove("/run/daemonbox/" + name + ".cgroup") })
}

// cgroupFile is a file of the cgroup at path: the controller's on v1, the
// group's own on v2.
func cgroupFile(path, controller, v1name, v2name string) string {
	if cgroup.V2() {
		return filepath.Join(cgroup.Root, path, v2name)
	}
	return filepath.Join(cgroup.Root, controller, path, v1name)
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("read %s: %v", path, err)
	}
	return strings.TrimSpace(string(b))
}

// TestResourcesReadBack: a supervised daemon is in <parent>/probe-PID in every
// hierarchy, with each limit as set; status lists it; stop removes it.
func TestResourcesReadBack(t *testing.T) {
	need(t)
	parent := cgroupParent(t)
	l := newLifecycle(t, fmt.Sprintf(`[resources]
parent = %q
memory_max = "64MiB"
memory_swap_max = 0
pids_max = 32
cpu_max = "50%%"
cpu_weight = 200
`, parent), "wait")
	l.must(t, "start")
	pid := l.pid(t)
	path := parent + "/" + ownName("probe")
	checkMembership(t, pid, path)
	want := map[string]string{
		cgroupFile(path, "memory", "memory.limit_in_bytes", "memory.max"):            "67108864",
		cgroupFile(path, "pids", "pids.max", "pids.max"):                             "32",
		cgroupFile(path, "cpu", "cpu.cfs_quota_us", "cpu.max"):                       map[bool]string{true: "50000 100000", false: "50000"}[cgroup.V2()],
		cgroupFile(path, "cpu", "cpu.shares", "cpu.weight"):                          map[bool]string{true: "200", false: "2048"}[cgroup.V2()],
		cgroupFile(path, "memory", "memory.memsw.limit_in_bytes", "memory.swap.max"): map[bool]string{true: "0", false: "67108864"}[cgroup.V2()],
	}
	for file, v := range want {
		if got := readTrim(t, file); got != v {
			t.Errorf("%s = %q, want %q", file, got, v)
		}
	}
	if r := l.do(t, "status"); !strings.Contains(r.stdout, fmt.Sprintf("cgroup /%s: 1 processes\n    %d probe\n", path, pid)) {
		t.Errorf("status does not list the cgroup's process:\n%s", r.stdout)
	}
	l.must(t, "stop")
	if fileExists(cgroupFile(path, "pids", "", "")) {
		t.Errorf("cgroup %s left after stop", path)
	}
}

// checkMembership requires pid to be in path in every hierarchy that
// carries a limit (v1) or in the unified one (v2).
func checkMembership(t *testing.T, pid int, path string) {
	t.Helper()
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cgroup")
	lines := string(b)
	want := []string{":/" + path} // the line is "0::/PATH"
	if !cgroup.V2() {
		want = []string{"memory:/" + path, "pids:/" + path, "cpu:/" + path, "blkio:/" + path, "freezer:/" + path}
	}
	for _, w := range want {
		if !regexp.MustCompile(`(?m)^\d+:` + regexp.QuoteMeta(w) + `$`).MatchString(lines) {
			t.Errorf("pid %d is not in %s:\n%s", pid, w, lines)
		}
	}
}

// TestForkBombStopsAtPidsMax: in place, the probe and its children are
// refused the 17th task with EAGAIN; the host forks on.
func TestForkBombStopsAtPidsMax(t *testing.T) {
	need(t)
	parent := cgroupParent(t)
	removeRecordAtEnd(t, "bomb")
	rep := launch{spec: fmt.Sprintf(`name = "bomb"
[process]
command = ["PROBE", "forkbomb"]
[user]
user = "nobody"
[resources]
parent = %q
pids_max = 16
`, parent)}.do(t).rep
	if got := rep.one(t, "forkbomb"); got != "15 11" {
		t.Errorf("forkbomb: %q, want \"15 11\" (15 children beside the probe, then EAGAIN)", got)
	}
	if err := exec.Command("/bin/true").Run(); err != nil {
		t.Errorf("the host cannot fork after the bomb: %v", err)
	}
}

// TestOOMKillReported: a memory hog over memory_max is killed by the OOM
// killer inside its cgroup; the supervisor says so by name, and exits 137.
func TestOOMKillReported(t *testing.T) {
	need(t)
	parent := cgroupParent(t)
	r := launch{groupLeader: true, spec: fmt.Sprintf(`name = "hog"
[process]
command = ["PROBE", "hog", "268435456"]
[user]
user = "nobody"
[resources]
parent = %q
memory_max = "32MiB"
memory_swap_max = 0
`, parent)}.do(t)
	if r.code != 137 || r.rep.has("hog done") {
		t.Errorf("exit %d, want 137 (SIGKILL); stdout %q", r.code, r.stdout)
	}
	if want := "daemonbox: hog: killed by the kernel's OOM killer (memory_max 32MiB)\n"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
	}
	if fileExists(cgroupFile(parent+"/hog", "memory", "", "")) {
		t.Error("the cgroup is left after the daemon ended")
	}
}

// TestStopEndsEscapedProcesses (P29): a grandchild that called setsid,
// renamed itself and ignores SIGTERM is listed by status and ended by stop,
// and the cgroup is gone afterwards.
func TestStopEndsEscapedProcesses(t *testing.T) {
	need(t)
	parent := cgroupParent(t)
	l := newLifecycle(t, fmt.Sprintf("[signals]\nstop_timeout = \"1s\"\n[resources]\nparent = %q\n", parent), "escape-stop")
	l.must(t, "start")
	waitLog(t, l.log, "escaped ")
	m := regexp.MustCompile(`escaped (\d+)`).FindStringSubmatch(readLog(l.log))
	escaped, _ := strconv.Atoi(m[1])
	if r := l.do(t, "status"); !strings.Contains(r.stdout, fmt.Sprintf("    %d escaped\n", escaped)) {
		t.Errorf("status does not list the escaped process %d:\n%s", escaped, r.stdout)
	}
	l.must(t, "stop")
	if !exited(escaped, time.Second) {
		t.Errorf("the escaped process %d outlived stop", escaped)
	}
	if dir := cgroupFile(parent+"/"+ownName("probe"), "pids", "", ""); fileExists(dir) {
		t.Errorf("cgroup %s left after stop", dir)
	}
}

// TestDaemonCannotChangeItsCgroup: as nobody, the daemon can neither raise
// its memory limit nor move itself to the root cgroup.
func TestDaemonCannotChangeItsCgroup(t *testing.T) {
	need(t)
	parent := cgroupParent(t)
	removeRecordAtEnd(t, "fenced")
	path := parent + "/fenced"
	limit := cgroupFile(path, "memory", "memory.limit_in_bytes", "memory.max")
	own := cgroupFile(path, "memory", "cgroup.procs", "cgroup.procs")
	root := cgroupFile("", "memory", "cgroup.procs", "cgroup.procs")
	rep := launch{spec: fmt.Sprintf(`name = "fenced"
[process]
command = ["PROBE", "isolation", "write=%s", "write=%s", "write=%s"]
[user]
user = "nobody"
[resources]
parent = %q
memory_max = "64MiB"
`, limit, own, root, parent)}.ok(t)
	tries := strings.Join(rep["try"], "\n")
	for _, f := range []string{limit, own, root} {
		if want := "write=" + f + " " + errno(13); !strings.Contains(tries, want) {
			t.Errorf("opening %s for writing: want EACCES; the probe tried:\n%s", f, tries)
		}
	}
}

// TestForegroundPIDNamespaceNoCgroup: a foreground run whose daemon has a
// PID namespace, with no pidfile and no [resources], makes no cgroup: the
// namespace's end ends everything in it. With a pidfile (so that stop and
// status reach it, as under start) it gets one, as every supervised
// daemon does.
func TestForegroundPIDNamespaceNoCgroup(t *testing.T) {
	need(t)
	name := ownName("nscgroup")
	for _, pidfile := range []bool{false, true} {
		text := fmt.Sprintf("name = %q\n[process]\ncommand = [\"/bin/sh\", \"-c\", \"cat /proc/self/cgroup\"]\n[namespaces]\npid = true\n", name)
		if pidfile {
			text += fmt.Sprintf("[daemon]\npidfile = %q\n", filepath.Join(rootDir(t), "d.pid"))
		}
		r := launch{cmd: "run", file: specFile(t, text)}.do(t)
		if r.code != 0 {
			t.Fatalf("run (pidfile %v): exit %d, %s", pidfile, r.code, r.stderr)
		}
		if in := strings.Contains(r.stdout, "/daemonbox/"+name+"\n"); in != pidfile {
			t.Errorf("run with a PID namespace, pidfile %v: in its own cgroup %v, want %v:\n%s", pidfile, in, pidfile, r.stdout)
		}
	}
}
