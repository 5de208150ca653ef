package vmtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 21, item 2 and 4-5: status tells a failure from a stop, start's
// exit codes, process titles, log lines, list and the watchdog.

// waitSupervisorGone waits, bounded, until the daemon's pidfile is gone and
// no supervisor of this suite's remains: the supervisor gave up, or its
// daemon ended without a restart.
func waitSupervisorGone(t *testing.T, l lifecycle) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for supervisors(t) > 0 || fileExists(l.pidfile) {
		if time.Now().After(deadline) {
			t.Fatalf("the supervisor or its pidfile stayed:\n%s", readLog(l.log))
		}
		time.Sleep(5 * time.Millisecond) // bounded
	}
}

// A daemon that dies without a restart policy is failed, not stopped:
// status exits 1 and says how it died, after its supervisor is gone; stop
// clears the failure, and status is back to 3. As root and rootless.
func TestStatusFailedWithoutRestart(t *testing.T) {
	eachMode(t, testStatusFailedWithoutRestart)
}

func testStatusFailedWithoutRestart(t *testing.T, m mode) {
	l := newLifecycleIn(t, m, "", "segv")
	l.must(t, "start")
	waitSupervisorGone(t, l)
	r := l.do(t, "status")
	want := ownName("probe") + `: failed: not restarted (restart = "no"); last exit: killed by SIGSEGV at `
	if r.code != 1 || !strings.HasPrefix(r.stdout, want) {
		t.Errorf("status: exit %d, %q; want 1, %q...", r.code, r.stdout, want)
	}
	l.must(t, "stop")
	if fileExists(l.pidfile + ".state") {
		t.Error("stop left the state file")
	}
	if r := l.do(t, "status"); r.code != 3 || r.stdout != ownName("probe")+": not running\n" {
		t.Errorf("status after stop: exit %d, %q", r.code, r.stdout)
	}
}

// The supervisor's lines carry an RFC 3339 time, and a signal's name.
func checkLogLines(t *testing.T, log string) {
	t.Helper()
	stamp := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d) daemonbox: `)
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if i := strings.Index(line, "daemonbox: "); i >= 0 {
			n++
			if !stamp.MatchString(line) {
				t.Errorf("a supervisor line without its time: %q", line)
			}
		}
	}
	if n == 0 || !strings.Contains(log, "ended (killed by SIGSEGV); restarting in") {
		t.Errorf("no restart line naming the signal:\n%s", log)
	}
}

// A crash loop is not a running service: between two runs status says
// "restarting", with the restarts and the last exit, and exits 1; at the
// moment a run is up it says "running" with the same history.
func checkCrashLoopStatus(t *testing.T, l lifecycle) {
	t.Helper()
	r := l.do(t, "status")
	history := regexp.MustCompile(`\d+ restarts?; last exit: killed by SIGSEGV at \d{4}-`)
	restarting := r.code == 1 && strings.Contains(r.stdout, ": restarting (")
	running := r.code == 0 && strings.Contains(r.stdout, ": running (pid ")
	if !history.MatchString(r.stdout) || !restarting && !running {
		t.Errorf("status of a crash loop: exit %d, %q", r.code, r.stdout)
	}
}

// start on a running daemon succeeds with a note, as LSB asks; --strict
// keeps the error for scripts that want it.
func TestStartAlreadyRunning(t *testing.T) {
	need(t)
	l := newLifecycle(t, "", "wait")
	l.must(t, "start")
	pid := l.pid(t)
	r := l.must(t, "start")
	if want := fmt.Sprintf("%s: already running (pid %d); nothing done\n", ownName("probe"), pid); r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	r = launch{cmd: "start", args: []string{"--strict"}, file: l.file}.do(t)
	if r.code != 125 || !strings.Contains(r.stderr, "already running (pid "+strconv.Itoa(pid)+")") {
		t.Errorf("start --strict: exit %d, %q", r.code, r.stderr)
	}
	if n := runningDaemons(t); n != 1 {
		t.Errorf("%d daemons run, want 1", n)
	}
}

// With start_settle, start waits for a daemon that dies at once and fails
// saying how; nothing is left, and status is 3 (a failed start is not a
// failed service: there was none). One that lives through it starts.
func TestStartSettle(t *testing.T) {
	need(t)
	l := newLifecycle(t, "start_settle = \"5s\"\n", "segv")
	r := l.do(t, "start")
	if want := `daemonbox: step "ready": the daemon ended (killed by SIGSEGV) within start_settle (5s)`; r.code != 125 || !strings.Contains(r.stderr, want) {
		t.Errorf("start: exit %d, %q; want 125, %q", r.code, r.stderr, want)
	}
	if supervisors(t) > 0 || fileExists(l.pidfile) || fileExists(l.pidfile+".state") {
		t.Error("a failed start left a supervisor, a pidfile or a state file")
	}
	if r := l.do(t, "status"); r.code != 3 {
		t.Errorf("status: exit %d, %q", r.code, r.stdout)
	}
	l = newLifecycle(t, "start_settle = \"200ms\"\n", "wait")
	l.must(t, "start")
	if r := l.do(t, "status"); r.code != 0 || !strings.Contains(r.stdout, ": running (pid ") {
		t.Errorf("status: exit %d, %q", r.code, r.stdout)
	}
}

// start exits as the README's table says: 127 for a command missing inside
// the root, 126 for one that cannot be executed.
func TestStartExitCodes(t *testing.T) {
	need(t)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := rootDir(t)
	os.WriteFile(filepath.Join(dir, "noexec"), []byte("#!/bin/sh\n"), 0o644)
	for _, c := range []struct {
		cmd  string
		code int
		row  string
	}{
		{filepath.Join(dir, "missing"), 127, "| 127 | the command does not exist"},
		{filepath.Join(dir, "noexec"), 126, "| 126 | the command exists"},
	} {
		if !strings.Contains(string(readme), c.row) {
			t.Errorf("README has no row %q", c.row)
		}
		spec := fmt.Sprintf("name = %q\n[process]\ncommand = [%q]\n[daemon]\npidfile = %q\n", ownName("codes"), c.cmd, filepath.Join(dir, "c.pid"))
		if r := (launch{cmd: "start", spec: spec}).do(t); r.code != c.code {
			t.Errorf("start %s: exit %d, want %d: %s", c.cmd, r.code, c.code, r.stderr)
		}
	}
}

// Every process daemonbox leaves running shows the spec's name in ps: the
// supervisor, and PID 1 of the daemon's PID namespace; as root and rootless.
// Staged: on the one-image path PID 1 is catatonit (launchpath_test.go).
func TestProcessTitles(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		{
			l := newLifecycleIn(t, m, "[namespaces]\npid = true\n", "wait")
			l.env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "DAEMONBOX_LAUNCH=staged"}
			l.must(t, "start")
			pid1 := ppid(t, l.pid(t))
			sup := ppid(t, pid1)
			name := ownName("probe")
			comm := "db:" + name
			comm = comm[:min(len(comm), 15)] + "\n"
			for pid, want := range map[int]string{sup: "daemonbox: " + name + " supervisor\x00", pid1: "daemonbox: " + name + " pid1\x00"} {
				cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
				got, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
				if string(cmdline) != want || string(got) != comm {
					t.Errorf("pid %d: cmdline %q comm %q; want %q, %q", pid, cmdline, got, want, comm)
				}
			}
		}
	})
}

// daemonbox list shows this suite's daemon, running, with its pid; and a
// failed one with its failure. Only this suite's rows are looked at.
func TestList(t *testing.T) {
	need(t)
	l := newLifecycle(t, "", "wait")
	list := func() string {
		out, err := exec.Command(daemonbox, "list").Output()
		if err != nil || !strings.HasPrefix(string(out), "NAME ") {
			t.Fatalf("list: %v, %q", err, out)
		}
		return string(out)
	}
	// The lifecycle's pidfile is its own; a spec with none uses the
	// directory list reads.
	l.file = specFile(t, fmt.Sprintf("name = %q\n[process]\ncommand = [%q, \"wait\"]\n[user]\nuser = \"nobody\"\n", ownName("listed"), probe))
	l.pidfile = filepath.Join("/run/daemonbox", ownName("listed")+".pid")
	l.must(t, "start")
	t.Cleanup(func() { l.do(t, "stop") })
	row := regexp.MustCompile(`(?m)^` + ownName("listed") + ` +` + strconv.Itoa(l.pid(t)) + ` +\S+ +running$`)
	if out := list(); !row.MatchString(out) {
		t.Errorf("no running row for %s:\n%s", ownName("listed"), out)
	}
	l.must(t, "stop")
	if out := list(); strings.Contains(out, ownName("listed")+" ") {
		t.Errorf("a stopped daemon listed:\n%s", out)
	}
	// A failed one, with its failure.
	f := lifecycle{file: specFile(t, fmt.Sprintf("name = %q\n[process]\ncommand = [%q, \"segv\"]\n[user]\nuser = \"nobody\"\n", ownName("failed"), probe))}
	f.pidfile = filepath.Join("/run/daemonbox", ownName("failed")+".pid")
	f.must(t, "start")
	t.Cleanup(func() { f.do(t, "stop") })
	waitSupervisorGone(t, f)
	row = regexp.MustCompile(`(?m)^` + ownName("failed") + ` +- +- +failed: not restarted \(restart = "no"\); last exit: killed by SIGSEGV at `)
	if out := list(); !row.MatchString(out) {
		t.Errorf("no failed row for %s:\n%s", ownName("failed"), out)
	}
}

// daemon.watchdog: the daemon finds WATCHDOG_USEC, its WATCHDOG=1 pings
// keep it alive, and once they stop it is killed with SIGABRT: restarted
// under restart = "on-failure", failed without a restart policy.
func TestWatchdog(t *testing.T) {
	need(t)
	// Six pings a quarter of the period apart outlast one period.
	l := newLifecycle(t, "watchdog = \"1s\"\n", "watchdog", "6")
	l.must(t, "start")
	waitSupervisorGone(t, l)
	log := readLog(l.log)
	if !strings.Contains(log, "watchdog_usec 1000000\n") || !strings.Contains(log, "watchdog silent\n") {
		t.Errorf("the pings did not keep the daemon alive:\n%s", log)
	}
	r := l.do(t, "status")
	if want := "last exit: killed by SIGABRT (watchdog: no WATCHDOG=1 within 1s) at "; r.code != 1 || !strings.Contains(r.stdout, ": failed: ") || !strings.Contains(r.stdout, want) {
		t.Errorf("status: exit %d, %q; want 1, %q", r.code, r.stdout, want)
	}
	l = newLifecycle(t, "watchdog = \"300ms\"\nrestart = \"on-failure\"\n", "watchdog", "0")
	l.must(t, "start")
	waitLog(t, l.log, "ended (killed by SIGABRT (watchdog: no WATCHDOG=1 within 300ms)); restarting in 100ms")
	l.must(t, "stop")
}

// A foreground supervisor whose stderr is the journal (JOURNAL_STREAM names
// it) prefixes its lines with their sd-daemon priority instead of a time.
func TestJournalPrefixes(t *testing.T) {
	need(t)
	stderr, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	var st syscall.Stat_t
	syscall.Fstat(int(stderr.Fd()), &st)
	spec := fmt.Sprintf("name = %q\n[process]\ncommand = [\"PROBE\", \"watchdog\", \"0\"]\n[daemon]\nwatchdog = \"200ms\"\n", ownName("journal"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := launch{spec: spec, env: []string{fmt.Sprintf("JOURNAL_STREAM=%d:%d", st.Dev, st.Ino)}}.command(t, ctx)
	cmd.Stderr = stderr
	cmd.Run()
	b, _ := os.ReadFile(stderr.Name())
	if want := "<3>daemonbox: " + ownName("journal") + ": watchdog: no WATCHDOG=1 within 200ms; sending SIGABRT\n"; !strings.Contains(string(b), want) {
		t.Errorf("stderr %q, want %q", b, want)
	}
}
