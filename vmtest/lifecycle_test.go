package vmtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// lifecycle is a detached daemon's spec and the paths it uses.
type lifecycle struct {
	file, pidfile, log string
	rootless           bool // run by the unprivileged test user
	env                []string
}

// newLifecycle writes a spec for the probe in the given mode, running as
// nobody, with its pidfile and log in a directory only root can write.
func newLifecycle(t *testing.T, extra string, argv ...string) lifecycle {
	t.Helper()
	return newLifecycleIn(t, mode{}, extra, argv...)
}

// newLifecycleIn is newLifecycle in mode m: rootless, the directory is the
// test user's, and the spec asks for a user namespace.
func newLifecycleIn(t *testing.T, m mode, extra string, argv ...string) lifecycle {
	t.Helper()
	dir := rootDir(t)
	if m.rootless {
		os.Chown(dir, int(rootlessUID), int(rootlessGID))
		extra = withUserNS(extra)
	}
	l := lifecycle{pidfile: filepath.Join(dir, "d.pid"), log: filepath.Join(dir, "d.log"), rootless: m.rootless}
	cmd := `"PROBE"`
	for _, a := range argv {
		cmd += fmt.Sprintf(", %q", a)
	}
	l.file = specFile(t, fmt.Sprintf(`name = %q
[process]
command = [%s]
[user]
user = "nobody"
[fds]
stdout = %q
stderr = %q
[daemon]
pidfile = %q
%s`, ownName("probe"), cmd, l.log, l.log, l.pidfile, extra))
	t.Cleanup(func() { launch{cmd: "stop", file: l.file, rootless: l.rootless}.do(t) })
	return l
}

func (l lifecycle) do(t *testing.T, cmd string) result {
	t.Helper()
	return launch{cmd: cmd, file: l.file, rootless: l.rootless, env: l.env}.do(t)
}

// must runs cmd and requires exit 0.
func (l lifecycle) must(t *testing.T, cmd string) result {
	t.Helper()
	r := l.do(t, cmd)
	if r.code != 0 {
		t.Fatalf("daemonbox %s: exit %d\nstdout: %s\nstderr: %s\nlog: %s", cmd, r.code, r.stdout, r.stderr, readLog(l.log))
	}
	return r
}

func (l lifecycle) pid(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile(l.pidfile)
	pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || perr != nil {
		t.Fatalf("pidfile: %q %v", b, err)
	}
	return pid
}

func readLog(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// waitLog waits (bounded) until the log holds want.
func waitLog(t *testing.T, path, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(readLog(path), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the log never showed %q:\n%s", want, readLog(path))
		}
		time.Sleep(5 * time.Millisecond) // polling a file another process writes; bounded
	}
}

// exited waits up to d for pid to be gone (or a zombie nobody reaps yet).
func exited(pid int, d time.Duration) bool {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return true
	}
	defer unix.Close(fd)
	n, _ := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, int(d.Milliseconds()))
	return n > 0
}

func TestStartStatusReloadStop(t *testing.T) {
	need(t)
	l := newLifecycle(t, "", "wait")
	l.must(t, "start")
	pid := l.pid(t)
	if st := procStatus(t, pid); !strings.Contains(st, "Uid:\t65534\t65534\t65534\t65534") {
		t.Errorf("the daemon is not confined as the spec says:\n%s", st)
	}
	if fi, _ := os.Stat(l.pidfile); fi.Mode().Perm() != 0o644 || fi.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("pidfile mode %v, want 0644 root-owned", fi.Mode())
	}
	// The daemon left the caller's session and has no terminal.
	if sid, _ := unix.Getsid(pid); sid == mustSid(t) {
		t.Errorf("daemon session %d is the caller's", sid)
	}
	waitLog(t, l.log, fmt.Sprintf("ready %d", pid))
	r := l.do(t, "status")
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("running (pid %d, up ", pid)) {
		t.Errorf("status: exit %d, %q", r.code, r.stdout)
	}
	l.must(t, "reload")
	waitLog(t, l.log, "signal 1\n") // SIGHUP, the default reload signal
	l.must(t, "stop")
	if !exited(pid, time.Second) {
		t.Error("the daemon outlived stop")
	}
	if _, err := os.Stat(l.pidfile); !os.IsNotExist(err) {
		t.Errorf("pidfile left behind: %v", err)
	}
	if r := l.do(t, "status"); r.code != 3 {
		t.Errorf("status after stop: exit %d, %q", r.code, r.stdout)
	}
	if r := l.do(t, "reload"); r.code != 7 {
		t.Errorf("reload when stopped: exit %d, want 7", r.code)
	}
	if r := l.do(t, "stop"); r.code != 0 {
		t.Errorf("stop when stopped: exit %d, want 0", r.code)
	}
}

func mustSid(t *testing.T) int {
	sid, err := unix.Getsid(0)
	if err != nil {
		t.Fatal(err)
	}
	return sid
}

// A start whose launch fails reports the failing step with run's exit code,
// and leaves no pidfile, supervisor or daemon.
func TestFailedStartLeavesNothing(t *testing.T) {
	need(t)
	l := newLifecycle(t, "")
	// A script whose interpreter is missing: check cannot see it, the
	// exec step fails on it.
	script := filepath.Join(rootDir(t), "daemon")
	os.WriteFile(script, []byte("#!/no/such/interpreter\n"), 0o755)
	l.file = specFile(t, strings.Replace(readLog(l.file), strconv.Quote(probe), strconv.Quote(script), 1))
	r := l.do(t, "start")
	if r.code != 127 || !strings.Contains(r.stderr, `step "exec"`) {
		t.Errorf("exit %d, %q; want 127 from the exec step", r.code, r.stderr)
	}
	if fileExists(l.pidfile) || supervisors(t) > 0 || fileExists(l.log) {
		t.Errorf("a failed start left a pidfile (%v), a supervisor (%d) or an empty log (%v)", fileExists(l.pidfile), supervisors(t), fileExists(l.log))
	}
	// The same in the foreground: the reason reaches the caller, not only
	// the log, and nothing is left.
	r = launch{file: l.file}.do(t)
	if r.code != 127 || !strings.Contains(r.stderr, `step "exec"`) || fileExists(l.log) || fileExists(l.pidfile) {
		t.Errorf("run: exit %d, %q, log left %v, pidfile left %v; want 127 from the exec step and nothing left",
			r.code, r.stderr, fileExists(l.log), fileExists(l.pidfile))
	}
	// A log that was there before is the operator's, and stays.
	os.WriteFile(l.log, nil, 0o640)
	if r = l.do(t, "start"); r.code != 127 || !fileExists(l.log) {
		t.Errorf("start with an existing log: exit %d, log kept %v", r.code, fileExists(l.log))
	}
}

// 200 start/stop cycles leave nothing behind: no process, zombie, fd,
// mount, pidfile or temporary file. The test makes itself a child
// subreaper, so each supervisor, orphaned when its starter exits, becomes
// its child: that every one of them has exited when stop returns is then
// counted directly, rather than through an init that reaps when it likes.
func TestStartStopCycles(t *testing.T) {
	need(t)
	l := newLifecycle(t, "", "wait")
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	os.WriteFile(l.log, nil, 0o640) // the one file that is meant to stay
	before := leftovers(t, l)
	cycles := 200
	if testing.Short() {
		cycles = 20
	}
	reaped := 0
	for i := 0; i < cycles; i++ {
		l.must(t, "start")
		pid := l.pid(t)
		l.must(t, "stop")
		if !exited(pid, time.Second) {
			t.Fatalf("cycle %d: the daemon outlived stop", i)
		}
		reaped += reapExited(t)
	}
	if reaped != cycles {
		t.Errorf("%d supervisors had exited when stop returned, want %d", reaped, cycles)
	}
	if after := leftovers(t, l); after != before {
		t.Errorf("after %d cycles:\n%s\nbefore:\n%s", cycles, after, before)
	}
}

// reapExited reaps the test's exited children without waiting for any.
func reapExited(t *testing.T) int {
	n := 0
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return n
		}
		n++
	}
}

// leftovers counts what a cycle could leak.
func leftovers(t *testing.T, l lifecycle) string {
	t.Helper()
	fds, _ := os.ReadDir("/proc/self/fd")
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	files, _ := os.ReadDir(filepath.Dir(l.pidfile))
	var names []string
	for _, f := range files {
		names = append(names, f.Name())
	}
	return fmt.Sprintf("fds %d, mounts %d, zombie children %d, supervisors %d, files %v",
		len(fds), strings.Count(string(mounts), "\n"), zombieChildren(t), supervisors(t), names)
}

// zombieChildren counts the test's own children that exited and were not
// reaped. Zombies elsewhere are for their parents to reap: this machine's
// PID 1 reaps orphans when it likes.
func zombieChildren(t *testing.T) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[0] == "Z" && f[1] == strconv.Itoa(os.Getpid()) {
			n++
		}
	}
	return n
}

// countProcs counts processes whose command line holds arg and that run an
// executable this suite built (the daemonbox binary or the probe), so that
// daemonbox services of the machine's own are not counted.
func countProcs(t *testing.T, arg string) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		exe, _ := os.Readlink("/proc/" + e.Name() + "/exe")
		ours := exe == daemonbox || exe == probe
		if err == nil && ours && strings.Contains(string(cmdline), arg) {
			n++
		}
	}
	return n
}

// supervisors counts the detached supervisors this suite started (their
// title: "daemonbox: NAME supervisor"); the tests run one at a time and
// stop what they start.
func supervisors(t *testing.T) int { return countProcs(t, " supervisor\x00") }

// Two starts at once: exactly one runs, the others say it already runs.
func TestConcurrentStarts(t *testing.T) {
	need(t)
	l := newLifecycle(t, "", "wait")
	results := make([]result, 8)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		// --strict: a start that finds it running fails, as it did before LSB's 0.
		go func() {
			defer wg.Done()
			results[i] = launch{cmd: "start", args: []string{"--strict"}, file: l.file}.do(t)
		}()
	}
	wg.Wait()
	won := 0
	for _, r := range results {
		switch {
		case r.code == 0:
			won++
		case !strings.Contains(r.stderr, "already running"):
			t.Errorf("a losing start: exit %d, %q", r.code, r.stderr)
		}
	}
	if won != 1 {
		t.Errorf("%d starts succeeded, want exactly 1", won)
	}
	if n := runningDaemons(t); n != 1 {
		t.Errorf("%d daemons run, want 1", n)
	}
}

// runningDaemons counts the probes in wait mode whose supervisor is the
// suite's daemonbox: those the suite started, and not another service's,
// even one that runs the same program. (The log cannot tell: a losing start
// may unlink the winner's log while it is still empty.)
func runningDaemons(t *testing.T) int {
	t.Helper()
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		exe, _ := os.Readlink("/proc/" + e.Name() + "/exe")
		if err != nil || exe != probe || !strings.HasSuffix(string(cmdline), "\x00wait\x00") {
			continue
		}
		pid, _ := strconv.Atoi(e.Name())
		if parent, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", ppid(t, pid))); err == nil && parent == daemonbox {
			n++
		}
	}
	return n
}

// A supervisor killed outright takes its daemon with it (parent_death), and
// leaves a pidfile nobody holds: status says so, and the next start replaces it.
func TestStalePidfileAfterSupervisorKilled(t *testing.T) {
	need(t)
	l := newLifecycle(t, "", "wait")
	l.must(t, "start")
	pid := l.pid(t)
	sup := ppid(t, pid)
	syscall.Kill(sup, syscall.SIGKILL)
	if !exited(pid, 5*time.Second) {
		t.Fatal("the daemon outlived its supervisor")
	}
	// The daemon's parent-death signal comes when the thread that forked
	// it ends; the pidfile's lock goes with the supervisor's last thread.
	if !exited(sup, 5*time.Second) {
		t.Fatal("the supervisor outlived SIGKILL")
	}
	if r := l.do(t, "status"); r.code != 1 || !strings.Contains(r.stdout, "dead") {
		t.Errorf("status with a stale pidfile: exit %d, %q", r.code, r.stdout)
	}
	l.must(t, "start")
	if l.pid(t) == pid {
		t.Error("the stale pid was kept")
	}
}

func ppid(t *testing.T, pid int) int {
	t.Helper()
	for _, line := range strings.Split(procStatus(t, pid), "\n") {
		if v, ok := strings.CutPrefix(line, "PPid:\t"); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	t.Fatal("no PPid")
	return 0
}

// A daemon that ignores SIGTERM is killed after stop_timeout; stop returns
// once it is gone.
func TestStopEscalates(t *testing.T) {
	need(t)
	l := newLifecycle(t, "[signals]\nstop_timeout = \"1s\"\n", "wait", "ignore-term")
	l.must(t, "start")
	pid := l.pid(t)
	waitLog(t, l.log, "ready ") // SIGTERM is ignored from here: ready = "exec" returns before that
	start := time.Now()
	l.must(t, "stop")
	if !exited(pid, 0) {
		t.Error("stop returned while the daemon lived")
	}
	if took := time.Since(start); took < time.Second {
		t.Errorf("stop took %v: SIGKILL came before stop_timeout", took)
	}
}

// restart = "on-failure": a crashing daemon is restarted with a growing
// delay until the start limit, then the supervisor gives up and cleans up.
func TestRestartPolicy(t *testing.T) {
	need(t)
	l := newLifecycle(t, "restart = \"on-failure\"\n", "segv")
	l.must(t, "start")
	waitLog(t, l.log, "giving up")
	log := readLog(l.log)
	if n := strings.Count(log, "restarting in"); n != 5 {
		t.Errorf("%d restarts, want 5 before giving up:\n%s", n, log)
	}
	for _, d := range []string{"100ms", "200ms", "400ms", "800ms", "1.6s"} {
		if !strings.Contains(log, "restarting in "+d+"\n") {
			t.Errorf("no restart after %s:\n%s", d, log)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for supervisors(t) > 0 || fileExists(l.pidfile) {
		if time.Now().After(deadline) {
			t.Fatal("the supervisor or its pidfile stayed after giving up")
		}
		time.Sleep(5 * time.Millisecond) // bounded
	}
	checkLogLines(t, log)
	// Given up on, it is failed, not stopped: LSB 1, with how it died.
	r := l.do(t, "status")
	want := ownName("probe") + ": failed: gave up after 5 restarts; last exit: killed by SIGSEGV at "
	if r.code != 1 || !strings.HasPrefix(r.stdout, want) {
		t.Errorf("status: exit %d, %q; want 1, %q...", r.code, r.stdout, want)
	}
}

func fileExists(path string) bool { _, err := os.Lstat(path); return err == nil }

// stop during a restart delay stops cleanly.
func TestStopDuringBackoff(t *testing.T) {
	need(t)
	l := newLifecycle(t, "restart = \"always\"\n", "segv")
	l.must(t, "start")
	waitLog(t, l.log, "restarting in 400ms")
	checkCrashLoopStatus(t, l)
	l.must(t, "stop")
	if supervisors(t) > 0 || fileExists(l.pidfile) {
		t.Error("a supervisor or pidfile remains after stop")
	}
	if r := l.do(t, "status"); r.code != 3 {
		t.Errorf("status after stop: exit %d, %q", r.code, r.stdout)
	}
}

// ready = "notify": start returns once the daemon sent READY=1; a daemon
// that never does, or dies first, fails the start and leaves nothing.
func TestNotifyReadiness(t *testing.T) {
	need(t)
	l := newLifecycle(t, "ready = \"notify\"\n", "notify")
	l.must(t, "start")
	pid := l.pid(t)
	log := readLog(l.log)
	if !strings.Contains(log, "status: serving") || !strings.Contains(log, "status: warming up") {
		t.Errorf("STATUS= not heard:\n%s", log)
	}
	if r := l.do(t, "status"); r.code != 0 || !strings.Contains(r.stdout, strconv.Itoa(pid)) {
		t.Errorf("status: %d %q", r.code, r.stdout)
	}
	l.must(t, "stop")

	never := newLifecycle(t, "ready = \"notify\"\nready_timeout = \"1s\"\n", "wait")
	r := never.do(t, "start")
	if r.code == 0 || !strings.Contains(r.stderr, "no READY=1 within 1s") {
		t.Errorf("never ready: exit %d, %q", r.code, r.stderr)
	}
	died := newLifecycle(t, "ready = \"notify\"\n", "segv")
	r = died.do(t, "start")
	if r.code == 0 || !strings.Contains(r.stderr, "before it was ready") {
		t.Errorf("died before ready: exit %d, %q", r.code, r.stderr)
	}
	for _, x := range []lifecycle{never, died} {
		if fileExists(x.pidfile) || supervisors(t) > 0 {
			t.Errorf("%s: a failed start left a pidfile or a process", x.file)
		}
	}
}

// When daemonbox runs under a service manager that waits for readiness
// (systemd's Type=notify), it passes READY=1 on to $NOTIFY_SOCKET.
func TestForwardsReadiness(t *testing.T) {
	need(t)
	sock := filepath.Join(rootDir(t), "notify.sock")
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: sock}); err != nil {
		t.Fatal(err)
	}
	l := newLifecycle(t, "ready = \"notify\"\n", "notify")
	r := launch{cmd: "start", file: l.file, env: []string{"NOTIFY_SOCKET=" + sock}}.do(t)
	if r.code != 0 {
		t.Fatalf("start: %d %s", r.code, r.stderr)
	}
	buf := make([]byte, 512)
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 5})
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil || !strings.Contains(string(buf[:n]), "READY=1") {
		t.Errorf("the service manager heard %q (%v)", buf[:max(n, 0)], err)
	}
}

// logrotate moves the log away and tells daemonbox to reopen it: no line is
// lost, and the lines after the rotation go to the new file.
func TestLogrotate(t *testing.T) {
	need(t)
	logrotate, err := exec.LookPath("logrotate")
	if err != nil {
		if strict {
			t.Fatal("logrotate is needed: apt-get install logrotate")
		}
		t.Skip("logrotate is needed: apt-get install logrotate")
	}
	const lines = 3000
	l := newLifecycle(t, "", "count", strconv.Itoa(lines))
	conf := filepath.Join(filepath.Dir(l.pidfile), "logrotate.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`%s {
	rotate 1
	create 0640 root root
	postrotate
		%s reopen-logs %s
	endscript
}
`, l.log, daemonbox, l.file)), 0o644)
	l.must(t, "start")
	waitLog(t, l.log, "\n100\n")
	out, err := exec.Command(logrotate, "-f", "-s", conf+".state", conf).CombinedOutput()
	if err != nil {
		t.Fatalf("logrotate: %v\n%s", err, out)
	}
	// The supervisor ends once it has copied the daemon's last line.
	deadline := time.Now().Add(30 * time.Second)
	for supervisors(t) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the counting daemon did not finish")
		}
		time.Sleep(10 * time.Millisecond) // bounded
	}
	old, now := readLog(l.log+".1"), readLog(l.log)
	if now == "" || old == "" {
		t.Fatalf("one side of the rotation is empty: %d and %d bytes", len(old), len(now))
	}
	got := strings.Fields(old + now)
	for i, s := range got {
		if s != strconv.Itoa(i+1) {
			t.Fatalf("line %d is %q, want %d: a line was lost or repeated", i+1, s, i+1)
		}
	}
	if len(got) != lines {
		t.Errorf("%d lines, want %d", len(got), lines)
	}
}

// P23: a symlink, hard link, FIFO or directory at the pidfile's path is
// refused, its target untouched, nothing hangs, and the daemon never runs.
func TestPidfileRefusesHostilePaths(t *testing.T) {
	need(t)
	dir := rootDir(t)
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	plant := map[string]func(string) error{
		"symlink":   func(p string) error { return os.Symlink(victim, p) },
		"hard link": func(p string) error { return os.Link(victim, p) },
		"FIFO":      func(p string) error { return syscall.Mkfifo(p, 0o600) },
		"directory": func(p string) error { return os.Mkdir(p, 0o755) },
	}
	for name, plantAt := range plant {
		l := newLifecycle(t, "", "wait")
		if err := plantAt(l.pidfile); err != nil {
			t.Fatal(err)
		}
		r := l.do(t, "start")
		if r.code == 0 || !strings.Contains(r.stderr, `step "pidfile"`) {
			t.Errorf("%s: exit %d, %q; want the pidfile step to refuse it", name, r.code, r.stderr)
		}
		if strings.Contains(readLog(l.log), "ready") {
			t.Errorf("%s: the daemon ran", name)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("the victim was changed: %q", b)
	}
	if supervisors(t) > 0 {
		t.Error("a refused start left a supervisor")
	}
}

// P23, P24: a pidfile or log directory (or one above it) that the daemon's
// user can write is refused before anything runs.
func TestDaemonWritableDirectoriesRefused(t *testing.T) {
	need(t)
	owned := rootDir(t)
	os.Chown(owned, 65534, 65534) // nobody's own
	open := rootDir(t)
	os.Chmod(open, 0o1777)
	for _, c := range []struct{ key, path string }{
		{"daemon.pidfile", filepath.Join(owned, "d.pid")},
		{"fds.stdout", filepath.Join(open, "sub", "out.log")},
	} {
		os.MkdirAll(filepath.Dir(c.path), 0o755)
		spec := "[process]\ncommand = [\"PROBE\", \"wait\"]\n[user]\nuser = \"nobody\"\n"
		if c.key == "daemon.pidfile" {
			spec += fmt.Sprintf("[daemon]\npidfile = %q\n", c.path)
		} else {
			spec += fmt.Sprintf("[fds]\nstdout = %q\n", c.path)
		}
		r := launch{cmd: "start", spec: spec}.do(t)
		if r.code != 125 || !strings.Contains(r.stderr, c.key+": ") || !strings.Contains(r.stderr, "writable by the daemon") {
			t.Errorf("%s in a daemon-writable directory: exit %d, %q", c.key, r.code, r.stderr)
		}
		if fileExists(c.path) {
			t.Errorf("%s was created", c.path)
		}
	}
}
