package vmtest

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The staged path's two shapes under a PID namespace with init = true
// (issue 20, item 3): PID 1 forks the daemon from a thread it prepared
// (two daemonbox images), or, for a plan that would bind a Go PID 1 (an
// address-space limit, say), starts the daemon's own stage (three).
// DAEMONBOX_LAUNCH=staged keeps root launches off the one-image path;
// rootless launches are staged anyway. DAEMONBOX_PID1=stage forces the
// three-image shape, to compare the two.

var stagedEnv = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DAEMONBOX_LAUNCH=staged"}

// stagedLifecycle is the probe waiting under PID 1 with extra in its spec,
// on the staged path.
func stagedLifecycle(t *testing.T, m mode, extra string, env ...string) lifecycle {
	t.Helper()
	l := newLifecycleIn(t, m, extra+"[namespaces]\npid = true\n", "wait")
	l.env = append(slices.Clone(stagedEnv), env...)
	return l
}

// pid1Nofile: PID 1 holds the spec's nofile when it ran the steps after
// pid1 itself; a limit PID 1 never sees otherwise.
const pid1Nofile = "[rlimits]\nnofile = { soft = 1000, hard = 1001 }\n"

// PID 1 forked the daemon: the daemon is PID 1's child, no daemon's stage
// is left, and PID 1 itself holds the rlimits step's result.
func TestStagedPID1ForksDaemon(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		l := stagedLifecycle(t, m, pid1Nofile)
		l.must(t, "start")
		daemon := l.pid(t)
		pid1 := ppid(t, daemon)
		name := ownName("probe")
		if got := cmdline(pid1); got != "daemonbox: "+name+" pid1\x00" {
			t.Fatalf("the daemon's parent is %q, want PID 1", got)
		}
		if kids := children(t, pid1); !slices.Equal(kids, []int{daemon}) {
			t.Errorf("PID 1's children are %v, want only the daemon %d", kids, daemon)
		}
		if others := titled(t, "daemonbox: "+name+" init\x00"); len(others) > 0 {
			t.Errorf("a daemon's stage is left: pids %v", others)
		}
		if got := nofile(t, pid1); got != "1000 1001" {
			t.Errorf("PID 1's nofile is %q, want the spec's 1000 1001: PID 1 did not run the steps after pid1", got)
		}
		if got := nofile(t, daemon); got != "1000 1001" {
			t.Errorf("the daemon's nofile is %q, want 1000 1001", got)
		}
	})
}

// A plan that would bind a Go PID 1 keeps the daemon's own stage: with an
// `as` limit PID 1 holds none of the spec's limits, and the daemon all.
func TestStagedIneligibleKeepsThreeImages(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		l := stagedLifecycle(t, m, pid1Nofile+"as = \"64GiB\"\n")
		l.must(t, "start")
		daemon := l.pid(t)
		pid1 := ppid(t, daemon)
		if got := cmdline(pid1); !strings.HasSuffix(got, " pid1\x00") {
			t.Fatalf("the daemon's parent is %q, want PID 1", got)
		}
		if got := nofile(t, pid1); got == "1000 1001" {
			t.Error("PID 1 holds the spec's nofile: it ran the daemon's steps, with an `as` limit")
		}
		if got := nofile(t, daemon); got != "1000 1001" {
			t.Errorf("the daemon's nofile is %q, want 1000 1001", got)
		}
	})
}

// P31: the probe reports the same in both shapes, as root and rootless:
// its own state, and what it can reach of PID 1 (P08, P09).
func TestStagedShapesReportAlike(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		for _, probeArgs := range []string{`"report"`, `"isolation", "write=/proc/1/exe", "read=/proc/1/environ", "read=/proc/1/mem", "ptrace=1", "kill=1"`} {
			spec := fmt.Sprintf("[process]\ncommand = [\"PROBE\", %s]\numask = \"0027\"\ncwd = \"/etc\"\n[rlimits]\ncore = 0\nnofile = 4096\n%s", probeArgs, stagedIsolation)
			l := m.launch(spec)
			l.env = stagedEnv
			two := l.ok(t)
			l.env = append(slices.Clone(stagedEnv), "DAEMONBOX_PID1=stage")
			three := l.ok(t)
			for _, k := range reportKeys(two, three) {
				if !slices.Contains(shapeDiffs, k) && !slices.Equal(two[k], three[k]) {
					t.Errorf("%s: two images %q, three %q", k, two[k], three[k])
				}
			}
			if probeArgs == `"report"` {
				sameShapeFacts(t, two, three)
			}
		}
		// The shapes did differ: PID 1 holds the daemon's nofile only
		// when it ran the steps after pid1 itself.
		spec := "[process]\ncommand = [\"/bin/cat\", \"/proc/1/limits\"]\n[rlimits]\nnofile = 4096\n" + stagedIsolation
		for _, c := range []struct {
			env  []string
			held bool
		}{{stagedEnv, true}, {append(slices.Clone(stagedEnv), "DAEMONBOX_PID1=stage"), false}} {
			l := m.launch(spec)
			l.env = c.env
			r := l.do(t)
			held := strings.Contains(r.stdout, "Max open files            4096                 4096")
			if r.code != 0 || held != c.held {
				t.Errorf("%v: exit %d, PID 1 holds nofile 4096: %v, want %v\n%s%s", c.env, r.code, held, c.held, r.stdout, r.stderr)
			}
		}
	})
}

// An exec that fails in PID 1's fork reaches the caller as the exec
// step's error, with exec's exit status.
func TestStagedPID1ForkExecFails(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		dir := rootDir(t)
		os.Chmod(dir, 0o755)
		garbage := dir + "/garbage" // executable, but no format the kernel knows: only execve can tell
		os.WriteFile(garbage, []byte("garbage\n"), 0o755)
		l := m.launch(fmt.Sprintf("[process]\ncommand = [%q]\n%s", garbage, stagedIsolation))
		l.env = stagedEnv
		r := l.do(t)
		if r.code != 126 || !strings.Contains(r.stderr, `step "exec": execve `+garbage+": exec format error") {
			t.Errorf("exit %d, %q; want 126 and the exec step's error", r.code, r.stderr)
		}
	})
}

// stagedIsolation is fullIsolation (launchpath_test.go); eachMode adds a
// user namespace when rootless.
const stagedIsolation = fullIsolation

// shapeDiffs are what differs between runs of either shape: the daemon's
// pid (after PID 1's runtime threads, and in three images the stage's),
// hence its session and group; the new namespaces' numbers; fds 1 and 2,
// each run's own pipes (compared by kind below).
var shapeDiffs = []string{"pid", "sid", "pgrp", "ns", "fd"}

func reportKeys(a, b report) []string {
	var keys []string
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// sameShapeFacts checks the known differences as what they should be.
func sameShapeFacts(t *testing.T, two, three report) {
	t.Helper()
	for _, r := range []report{two, three} {
		if r.one(t, "ppid") != "1" || r.one(t, "sid") != r.one(t, "pid") || r.one(t, "pgrp") != r.one(t, "pid") {
			t.Errorf("pid %s ppid %s sid %s pgrp %s: want PID 1's child leading its own session", r["pid"], r["ppid"], r["sid"], r["pgrp"])
		}
	}
	kinds := func(r report) []string {
		var out []string
		for _, v := range r["fd"] {
			f := strings.Fields(v)
			if len(f) == 4 {
				f[2] = "-" // a pipe's inode is its run's own
			}
			out = append(out, strings.Join(f, " "))
		}
		return out
	}
	if a, b := kinds(two), kinds(three); !slices.Equal(a, b) {
		t.Errorf("fds: two images %q, three %q", a, b)
	}
	if len(two["ns"]) != len(three["ns"]) {
		t.Errorf("namespaces: two images %q, three %q", two["ns"], three["ns"])
	}
}

// children are pid's children, from every one of its threads.
func children(t *testing.T, pid int) []int {
	t.Helper()
	tasks, err := os.ReadDir(procPath(pid, "task"))
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, task := range tasks {
		b, _ := os.ReadFile(procPath(pid, "task/"+task.Name()+"/children"))
		for _, f := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(f)
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// titled are the host's processes whose command line is title.
func titled(t *testing.T, title string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && cmdline(pid) == title {
			out = append(out, pid)
		}
	}
	return out
}

// nofile is pid's RLIMIT_NOFILE, "soft hard", from /proc/PID/limits.
func nofile(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(procPath(pid, "limits"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			f := strings.Fields(rest)
			if len(f) >= 2 {
				return f[0] + " " + f[1]
			}
		}
	}
	t.Fatal("no Max open files line")
	return ""
}
