package sandbox

import (
	"github.com/daemonbox/daemonbox/seccomp"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// initHost looks for PID 1 in fresh directories a and b, in that order,
// holding the files named (a/tini, b/catatonit), each an executable
// script. The files live under /tmp, which initProblem refuses, so the
// check is vet's.
func initHost(t *testing.T, vet func(string) string, files ...string) (*Host, string) {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"a", "b"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	h := rootHost()
	h.InitDirs = []string{filepath.Join(dir, "a"), filepath.Join(dir, "b")}
	h.VetInit = vet
	return h, dir
}

func vetNothing(string) string { return "" }

func TestPID1Found(t *testing.T) {
	const pid = "[namespaces]\npid = true\n"
	cases := []struct {
		name, doc string
		files     []string
		program   string // relative to the fake dirs' parent
		pid1      string
	}{
		{"catatonit after tini", pid, []string{"a/tini", "b/catatonit"}, "b/catatonit", "catatonit (DIR/b/catatonit -P, found)"},
		{"the first catatonit", pid, []string{"a/catatonit", "b/catatonit"}, "a/catatonit", "catatonit (DIR/a/catatonit -P, found)"},
		{"tini alone is not used", pid, []string{"b/tini"}, "", "daemonbox (DIR/b/tini has no pause mode, so it cannot be PID 1 here: apt-get install catatonit for the fast launch)"},
		{"none", pid, nil, "", "daemonbox (no catatonit found: apt-get install catatonit for the fast launch)"},
		{"init = false", pid + "init = false\n", []string{"a/catatonit"}, "", "the daemon (init = false)"},
		{"no pid namespace", "", []string{"a/catatonit"}, "", "the host's init (no pid namespace)"},
		{"a user namespace", "[user]\nuser = \"nobody\"\n" + pid + "user = true\n", []string{"a/catatonit"}, "", "daemonbox (a user namespace launches in stages, with daemonbox's own PID 1)"},
	}
	for _, c := range cases {
		h, dir := initHost(t, vetNothing, c.files...)
		p, err := plan(t, h, c.doc)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		want := ""
		if c.program != "" {
			want = filepath.Join(dir, c.program)
		}
		if p.InitProgram != want || (want != "") != slices.Equal(p.InitArgv, []string{"catatonit", "-P"}) {
			t.Errorf("%s: PID 1 is %q %q, want %q", c.name, p.InitProgram, p.InitArgv, want)
		}
		if wantText := strings.ReplaceAll(c.pid1, "DIR", dir); p.PID1 != wantText {
			t.Errorf("%s: PID1 %q, want %q", c.name, p.PID1, wantText)
		}
	}
}

// A directory, or a symlink to nothing, is passed over; a symlink to a
// program is resolved.
func TestPID1FoundSkipsNonFiles(t *testing.T) {
	h, dir := initHost(t, vetNothing, "b/catatonit-0.2")
	if err := os.Mkdir(filepath.Join(dir, "a", "catatonit"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("catatonit-0.2", filepath.Join(dir, "b", "catatonit")); err != nil {
		t.Fatal(err)
	}
	p, err := plan(t, h, "[namespaces]\npid = true\n")
	if want := filepath.Join(dir, "b", "catatonit-0.2"); err != nil || p.InitProgram != want {
		t.Fatalf("PID 1 %v %v, want %s", p, err, want)
	}
}

// A found catatonit that fails the check fails the plan, located at
// namespaces.init: it is not passed over in silence.
func TestPID1FoundRefused(t *testing.T) {
	h, dir := initHost(t, func(string) string { return "is owned by uid 1000" }, "a/catatonit")
	_, err := plan(t, h, "[namespaces]\npid = true\n")
	want := "namespaces.init: " + filepath.Join(dir, "a", "catatonit") + ", found as PID 1, is owned by uid 1000; or name another"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want %q", err, want)
	}
}

func TestPID1Named(t *testing.T) {
	h, dir := initHost(t, vetNothing, "a/catatonit-static", "a/tini", "b/catatonit")
	if err := os.Symlink("../a/catatonit-static", filepath.Join(dir, "b", "pause")); err != nil {
		t.Fatal(err)
	}
	named := func(f string) string { return "[namespaces]\npid = true\ninit = \"" + filepath.Join(dir, f) + "\"\n" }
	p, err := plan(t, h, named("a/catatonit-static"))
	if want := filepath.Join(dir, "a", "catatonit-static"); err != nil || p.InitProgram != want || p.PID1 != "catatonit ("+want+" -P, named by namespaces.init)" {
		t.Errorf("named catatonit: %+v %v", p, err)
	}
	if p, err := plan(t, h, named("b/pause")); err != nil || p.InitProgram != filepath.Join(dir, "a", "catatonit-static") {
		t.Errorf("a symlink to a catatonit: %v %v", p, err)
	}
	for f, want := range map[string]string{
		"a/tini":      "t.toml:5:8: namespaces.init: DIR/a/tini is not a catatonit: daemonbox starts PID 1 before the daemon, in catatonit's pause mode (-P)",
		"a/catatonit": "t.toml:5:8: namespaces.init: DIR/a/catatonit does not exist on the host; install it (apt-get install catatonit)",
	} {
		_, err := plan(t, h, named(f))
		if want = strings.ReplaceAll(want, "DIR", dir); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s:\n got %v\nwant %s", f, err, want)
		}
	}
	_, err = plan(t, h, named("b/catatonit")+"user = true\n")
	if want := "cannot be PID 1 with a user namespace"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("with a user namespace: %v, want %q", err, want)
	}
	h.VetInit = func(string) string { return "is not executable (mode 0644); chmod +x it" }
	_, err = plan(t, h, named("b/catatonit"))
	if want := "namespaces.init: " + filepath.Join(dir, "b", "catatonit") + " is not executable"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("refused by the check: %v, want %q", err, want)
	}
}

// initProblem refuses what is not a root-owned executable file that no one
// else can replace; the file and the directories above it are read.
func TestInitProblem(t *testing.T) {
	dir := t.TempDir()
	plain, exe := filepath.Join(dir, "plain"), filepath.Join(dir, "exe")
	for f, mode := range map[string]os.FileMode{plain: 0o644, exe: 0o755} {
		if err := os.WriteFile(f, nil, mode); err != nil {
			t.Fatal(err)
		}
	}
	for path, want := range map[string]string{
		dir:                        "is a directory, not a regular file",
		plain:                      "is not executable (mode 0644)",
		exe:                        "must be root's and writable by nobody else", // its owner, or /tmp
		filepath.Join(dir, "none"): "no such file or directory",
	} {
		if got := initProblem(path); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q in it", path, got, want)
		}
	}
	if _, err := os.Stat("/usr/bin/catatonit"); err == nil {
		if got := initProblem("/usr/bin/catatonit"); got != "" {
			t.Errorf("Debian's catatonit refused: %s", got)
		}
	}
}

// A launch that has its catatonit but takes stages all the same says so,
// with the reason, and keeps the program for a forced one-image launch to
// name the real reason.
func TestPID1StagedAllTheSame(t *testing.T) {
	h, dir := initHost(t, vetNothing, "a/catatonit")
	var asked *Launch
	h.OneImage = func(l *Launch, _ *seccomp.Policy, _ bool) string { asked = l; return "a reason" }
	p, err := plan(t, h, "[namespaces]\npid = true\n")
	if err != nil {
		t.Fatal(err)
	}
	if asked == nil || p.StagedWhy != "a reason" || p.PID1 != "daemonbox, as the launch takes stages here: a reason" {
		t.Errorf("asked %v, StagedWhy %q, PID1 %q", asked != nil, p.StagedWhy, p.PID1)
	}
	if p.InitProgram != filepath.Join(dir, "a/catatonit") {
		t.Errorf("InitProgram %q", p.InitProgram)
	}
}

// On cgroup v2 the daemon is cloned into its cgroup with clone3, which the
// default filter refuses: a foreground run that makes no cgroup takes one
// image and explain says start would not; with a pidfile, both take stages.
func TestPID1CgroupV2(t *testing.T) {
	h := cgroupV2Host(t, "")
	p, err := plan(t, h, "[namespaces]\npid = true\n")
	if err != nil {
		t.Fatal(err)
	}
	if p.StagedWhy != "" || !strings.HasPrefix(p.PID1, "catatonit") || !strings.Contains(p.PID1, "under start, which gives it a cgroup, daemonbox, in stages: the filter refuses clone3") {
		t.Errorf("no pidfile: StagedWhy %q, PID1 %q", p.StagedWhy, p.PID1)
	}
	p, err = plan(t, h, "[namespaces]\npid = true\n[daemon]\npidfile = \"/run/x.pid\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if p.StagedWhy != "the filter refuses clone3" {
		t.Errorf("with a pidfile: StagedWhy %q, PID1 %q", p.StagedWhy, p.PID1)
	}
}

// A reason that holds without a cgroup is the one given, even when the
// cgroup would add another: explain names what keeps every launch off one
// image first.
func TestPID1CgroupV2OtherReason(t *testing.T) {
	h := cgroupV2Host(t, "no pidns here")
	for _, spec := range []string{"[namespaces]\npid = true\n", "[namespaces]\npid = true\n[daemon]\npidfile = \"/run/x.pid\"\n"} {
		p, err := plan(t, h, spec)
		if err != nil {
			t.Fatal(err)
		}
		if p.StagedWhy != "no pidns here" {
			t.Errorf("%q: StagedWhy %q, PID1 %q", spec, p.StagedWhy, p.PID1)
		}
	}
}

// cgroupV2Host has catatonit and cgroup v2; one image is refused for
// reason without a cgroup, and for the filter's clone3 into one.
func cgroupV2Host(t *testing.T, reason string) *Host {
	h, _ := initHost(t, vetNothing, "a/catatonit")
	h.Cgroups = func() CgroupBase { return CgroupBase{V2: true} }
	h.OneImage = func(_ *Launch, _ *seccomp.Policy, intoCgroup bool) string {
		if intoCgroup && reason == "" {
			return "the filter refuses clone3"
		}
		return reason
	}
	return h
}

// The live host's plan keeps the reasons it found, which give what
// OneImageBlocker says of the finished plan: nothing NewPlan does after
// launchPath changes them.
func TestPlanKeepsBlockers(t *testing.T) {
	h, _ := initHost(t, vetNothing, "a/catatonit")
	h.OneImage, h.keepBlockers = OneImageBlocker, true
	for _, s := range []string{"[namespaces]\npid = true\n", "[namespaces]\npid = true\n[signals]\nignore = [\"SIGHUP\"]\n"} {
		p, err := plan(t, h, s)
		if err != nil {
			t.Fatal(err)
		}
		if p.blockers[0] == nil || p.blockers[1] != nil {
			t.Fatalf("%q: blockers %v", s, p.blockers)
		}
		if got, want := p.blockers[0].why(), OneImageBlocker(&p.Launch, p.SeccompPolicy, false); got != want || got != p.StagedWhy {
			t.Errorf("%q: kept %q, now %q, StagedWhy %q", s, got, want, p.StagedWhy)
		}
	}
}
