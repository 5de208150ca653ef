package vmtest

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// childPID reads the "child PID" line that the probe's forking mode writes.
func childPID(t *testing.T, log string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^child (\d+)$`).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("no child line in the log:\n%s", log)
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

// A forking daemon names its real process with MAINPID= and exits: the
// supervisor (a child subreaper) takes the named process as the daemon,
// puts it in the pidfile, signals it, and ends when it ends.
func TestForkingDaemonMainPID(t *testing.T) {
	need(t)
	l := newLifecycle(t, "ready = \"notify\"\n", "forking")
	l.must(t, "start")
	pid := l.pid(t)
	if child := childPID(t, readLog(l.log)); child != pid {
		t.Fatalf("pidfile names %d, MAINPID named %d", pid, child)
	}
	sup := ppid(t, pid)
	if got := supervisors(t); got != 1 {
		t.Fatalf("%d supervisors, want 1", got)
	}
	if r := l.do(t, "status"); r.code != 0 || !strings.Contains(r.stdout, strconv.Itoa(pid)) {
		t.Errorf("status: %d %q", r.code, r.stdout)
	}
	l.must(t, "reload")
	waitLog(t, l.log, "signal 1\n")
	l.must(t, "stop")
	if !exited(pid, 0) || !exited(sup, 0) {
		t.Error("stop returned while the main process or the supervisor lived")
	}
	log := readLog(l.log)
	if !strings.Contains(log, "signal 15\n") || !strings.Contains(log, ownName("probe")+": stopping") {
		t.Errorf("the main process did not get the stop signal, or STOPPING=1 was not heard:\n%s", log)
	}
	if fileExists(l.pidfile) {
		t.Error("the pidfile outlived the daemon")
	}
}

// In the foreground, the status of the process named by MAINPID= is
// daemonbox's exit status, not that of the process it started.
func TestForkingDaemonStatus(t *testing.T) {
	need(t)
	r := launch{spec: `[process]
command = ["PROBE", "forking", "3"]
[user]
user = "nobody"
[daemon]
ready = "notify"
`}.do(t)
	if r.code != 3 {
		t.Errorf("exit %d, want the main process's 3\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}

// Processes the daemon leaves behind become the supervisor's children; when
// the daemon ends they get the stop signal and are reaped, as systemd ends
// what is left in a service's control group.
func TestLeftoversEnded(t *testing.T) {
	need(t)
	log := rootDir(t) + "/d.log"
	r := launch{spec: fmt.Sprintf(`[process]
command = ["PROBE", "forking"]
[user]
user = "nobody"
[fds]
stdout = %q
stderr = %q
`, log, log)}.do(t)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	text := readLog(log)
	child := childPID(t, text)
	if !exited(child, time.Second) {
		t.Errorf("the daemon's child %d outlived it", child)
	}
	if !strings.Contains(text, "ended 1 processes it left behind") {
		t.Errorf("the supervisor did not say what it ended:\n%s", text)
	}
	if n := zombieChildren(t); n != 0 {
		t.Errorf("%d zombies left", n)
	}
}
