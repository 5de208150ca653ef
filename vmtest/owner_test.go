package vmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/daemonbox/daemonbox/cgroup"
)

// Two specs that share a name share its cgroup's path: the control
// commands of one must never act on the other's daemon (finding C2).

// ownerName is a daemon name unique to t: the in-place record
// /run/daemonbox/NAME.cgroup is shared by every spec of that name.
func ownerName(t *testing.T) string {
	return fmt.Sprintf("own%d-%s", os.Getpid(), strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")))
}

// namedLifecycle is newLifecycle with the daemon's name given; its cgroup
// is daemonbox/NAME unless extra sets resources.parent. Both the daemon
// and that cgroup are ended when t ends.
func namedLifecycle(t *testing.T, name, extra string) lifecycle {
	t.Helper()
	dir := rootDir(t)
	l := lifecycle{pidfile: filepath.Join(dir, "d.pid"), log: filepath.Join(dir, "d.log")}
	l.file = specFile(t, fmt.Sprintf(`name = %q
[process]
command = ["PROBE", "wait"]
[user]
user = "nobody"
[fds]
stdout = %q
stderr = %q
[daemon]
pidfile = %q
%s`, name, l.log, l.log, l.pidfile, extra))
	t.Cleanup(func() { launch{cmd: "stop", file: l.file}.do(t) })
	return l
}

// removeGroupAtEnd ends and removes the cgroup at path when t ends, for a
// test whose own stop failed.
func removeGroupAtEnd(t *testing.T, path string) {
	t.Cleanup(func() {
		if g, err := cgroup.New(path); err == nil && g.Exists() {
			g.Kill(5 * time.Second)
			g.Remove()
		}
	})
}

// TestSameNameSpecsKeepApart: d1 runs supervised; d2, another spec of the
// same name and another pidfile, neither stops nor lists it, and may not
// start beside it, with [resources] or without.
func TestSameNameSpecsKeepApart(t *testing.T) {
	need(t)
	name := ownerName(t)
	path := "daemonbox/" + name
	removeGroupAtEnd(t, path)
	d1 := namedLifecycle(t, name, "")
	d2 := namedLifecycle(t, name, "")
	d3 := namedLifecycle(t, name, "[resources]\npids_max = 64\n")
	d1.must(t, "start")
	pid := d1.pid(t)
	r := d2.do(t, "stop")
	if r.code != 0 || !strings.Contains(r.stderr, "; not touched") || exited(pid, 0) {
		t.Fatalf("stop of d2: exit %d, stderr %q; d1's daemon %d alive: %v", r.code, r.stderr, pid, !exited(pid, 0))
	}
	r = d2.do(t, "status")
	if r.code != 3 || !strings.Contains(r.stdout, name+": not running\n") || strings.Contains(r.stdout, " "+strconv.Itoa(pid)+" ") {
		t.Errorf("status of d2: exit %d, want 3, not running, without d1's pid %d:\n%s", r.code, pid, r.stdout)
	}
	for _, d := range []lifecycle{d2, d3} {
		r = d.do(t, "start")
		if r.code == 0 || !strings.Contains(r.stderr, "two daemons must not share a cgroup") {
			t.Errorf("start beside d1: exit %d, stderr %q; want refused", r.code, r.stderr)
		}
	}
	if r = d2.do(t, "restart"); r.code == 0 || exited(pid, 0) {
		t.Errorf("restart of d2: exit %d, stderr %q; d1's daemon alive: %v", r.code, r.stderr, !exited(pid, 0))
	}
	d1.must(t, "stop")
	if !exited(pid, 5*time.Second) || fileExists(cgroupFile(path, "pids", "", "")) {
		t.Errorf("d1's stop left its daemon %d or its cgroup %s", pid, path)
	}
}

// inPlaceSpec is a spec that runs "probe wait" in place, in a cgroup of its
// own below parent.
func inPlaceSpec(t *testing.T, name, parent string) string {
	return specFile(t, fmt.Sprintf(`name = %q
[process]
command = ["PROBE", "wait"]
[user]
user = "nobody"
[resources]
parent = %q
pids_max = 64
`, name, parent))
}

// TestInPlaceCgroupIsItsSpecs: an in-place run with [resources] records
// that its cgroup is its spec's. Status and stop of that spec list and
// end it, and remove the cgroup and the record; another spec of the same
// name neither lists nor stops it, nor runs beside it.
func TestInPlaceCgroupIsItsSpecs(t *testing.T) {
	need(t)
	name, parent := ownerName(t), cgroupParent(t)
	path, record := parent+"/"+name, "/run/daemonbox/"+name+".cgroup"
	own, other := inPlaceSpec(t, name, parent), inPlaceSpec(t, name, parent)
	removeRecordAtEnd(t, name)
	d := startLaunch(t, launch{file: own})
	if d.pid != d.proc.Pid {
		t.Fatalf("daemonbox supervised (daemon %d, daemonbox %d); this test needs it in place", d.pid, d.proc.Pid)
	}
	if b, err := os.ReadFile(record); err != nil || !strings.HasPrefix(string(b), own+"\n"+path+"\n") {
		t.Errorf("record %s: %q %v, want the spec %s and cgroup %s", record, b, err, own, path)
	}
	for _, cmd := range []string{"stop", "status", "run"} {
		r := launch{cmd: cmd, file: other}.do(t)
		if strings.Contains(r.stdout, " "+strconv.Itoa(d.pid)+" ") || exited(d.pid, 0) {
			t.Errorf("%s of the other spec acted on the daemon %d: exit %d\n%s%s", cmd, d.pid, r.code, r.stdout, r.stderr)
		}
		if cmd == "run" && (r.code == 0 || !strings.Contains(r.stderr, "of another spec ("+own+") run in place")) {
			t.Errorf("run of the other spec: exit %d, stderr %q; want refused, naming %s", r.code, r.stderr, own)
		}
	}
	r := launch{cmd: "status", file: own}.do(t)
	if want := fmt.Sprintf("running in place (no supervisor)\n  cgroup /%s: 1 processes\n    %d probe\n", path, d.pid); r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Errorf("status: exit %d, want 0 and %q:\n%s", r.code, want, r.stdout)
	}
	r = launch{cmd: "stop", file: own}.do(t)
	if r.code != 0 || !strings.Contains(r.stdout, "ended 1 processes in its cgroup") {
		t.Errorf("stop: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if code := d.exit(); code != 0 || fileExists(cgroupFile(path, "pids", "", "")) || fileExists(record) {
		t.Errorf("after stop: exit %d, want 0; cgroup left: %v; record left: %v", code, fileExists(cgroupFile(path, "pids", "", "")), fileExists(record))
	}
}
