package vmtest

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// [signals].ignore: SigIgn is exactly the spec's list and the mask is empty,
// even when the launcher had other signals ignored and blocked (P22).
func TestSignalDispositions(t *testing.T) {
	need(t)
	// perl ignores SIGUSR1 and SIGHUP and blocks SIGUSR2, then execs daemonbox.
	wrap := []string{"/usr/bin/perl", "-MPOSIX", "-e",
		`$SIG{USR1} = "IGNORE"; $SIG{HUP} = "IGNORE"; sigprocmask(SIG_BLOCK, POSIX::SigSet->new(SIGUSR2)); exec @ARGV or die`}
	rep := launch{spec: minimal + "[signals]\nignore = [\"SIGPIPE\", \"usr2\"]\n", wrap: wrap}.ok(t)
	want := uint64(1<<(13-1) | 1<<(12-1))
	if got := rep.hex(t, "sigign"); got != want {
		t.Errorf("SigIgn %016x, want SIGPIPE and SIGUSR2 only (%016x)", got, want)
	}
	if got := rep.hex(t, "sigblk"); got != 0 {
		t.Errorf("SigBlk %016x, want empty", got)
	}
}

// daemon is a supervised daemon (daemonbox leads a process group, as under
// an interactive shell) running "probe wait", read line by line.
type daemon struct {
	t     *testing.T
	cmd   interface{ Wait() error }
	proc  *os.Process
	lines chan string
	pid   int // the probe's
}

func startDaemon(t *testing.T, spec string) *daemon {
	t.Helper()
	return startLaunch(t, launch{spec: spec, groupLeader: true})
}

// startLaunch starts l, which runs "probe wait", and reads its ready line.
func startLaunch(t *testing.T, l launch) *daemon {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	cmd := l.command(t, ctx)
	// Our own pipe, not StdoutPipe: Wait closes that one's read end once
	// daemonbox exits, and the daemon may still be writing (parent death).
	out, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	cmd.Stdout, cmd.Stderr = w, os.Stderr
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, cmd: cmd, proc: cmd.Process, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			d.lines <- sc.Text()
		}
		close(d.lines)
	}()
	ready := d.next()
	pid, err := strconv.Atoi(strings.TrimPrefix(ready, "ready "))
	if err != nil {
		t.Fatalf("the probe said %q, want ready PID", ready)
	}
	d.pid = pid
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL); cmd.Process.Kill(); cmd.Wait() })
	return d
}

// next is the daemon's next line, waiting a bounded time.
func (d *daemon) next() string {
	d.t.Helper()
	select {
	case l, ok := <-d.lines:
		if !ok {
			return "<EOF>"
		}
		return l
	case <-time.After(20 * time.Second):
		d.t.Fatal("no line from the daemon within 20s")
		return ""
	}
}

// exit waits for daemonbox and returns its exit code.
func (d *daemon) exit() int {
	d.t.Helper()
	err := d.cmd.Wait()
	if ee, ok := err.(interface{ ExitCode() int }); ok && err != nil {
		return ee.ExitCode()
	}
	return 0
}

// A supervising daemonbox forwards SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 as they
// are, and turns SIGTERM into the spec's stop signal.
func TestSupervisorForwardsSignals(t *testing.T) {
	need(t)
	d := startDaemon(t, "[process]\ncommand = [\"PROBE\", \"wait\"]\n[signals]\nstop = \"SIGTERM\"\n")
	if d.pid == d.proc.Pid {
		t.Fatal("daemonbox exec'd in place; this test needs it supervising")
	}
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM} {
		d.proc.Signal(sig)
		if got, want := d.next(), "signal "+strconv.Itoa(int(sig)); got != want {
			t.Errorf("after %v the daemon said %q, want %q", sig, got, want)
		}
	}
	if code := d.exit(); code != 0 {
		t.Errorf("daemonbox exit %d, want the daemon's 0", code)
	}
}

// On SIGINT the supervisor sends signals.stop, and after stop_timeout SIGKILL;
// its exit code is then 128+9.
func TestStopTimeoutEscalates(t *testing.T) {
	need(t)
	d := startDaemon(t, "[process]\ncommand = [\"PROBE\", \"wait\", \"ignore-term\"]\n[signals]\nstop = \"SIGUSR2\"\nstop_timeout = \"1s\"\n")
	d.proc.Signal(syscall.SIGINT)
	if got := d.next(); got != "signal 12" {
		t.Errorf("after SIGINT the daemon said %q, want signal 12 (the spec's stop)", got)
	}
	if code := d.exit(); code != 128+9 {
		t.Errorf("daemonbox exit %d, want 137: SIGKILL after stop_timeout", code)
	}
}

// parent_death: when the supervisor is SIGKILLed, the daemon gets the signal.
func TestParentDeathSignal(t *testing.T) {
	need(t)
	d := startDaemon(t, "[process]\ncommand = [\"PROBE\", \"wait\"]\n[signals]\nparent_death = \"SIGUSR1\"\n")
	pidfd := d.pidfd()
	d.proc.Kill()
	d.exit()
	if got := d.next(); got != "signal 10" {
		t.Errorf("after the supervisor's death the daemon said %q, want signal 10", got)
	}
	syscall.Kill(d.pid, syscall.SIGTERM)
	waitGone(t, pidfd)
}

// The default parent_death (SIGKILL) ends the daemon.
func TestParentDeathDefaultKills(t *testing.T) {
	need(t)
	d := startDaemon(t, "[process]\ncommand = [\"PROBE\", \"wait\"]\n")
	pidfd := d.pidfd()
	d.proc.Kill()
	d.exit()
	waitGone(t, pidfd)
}

// pidfd opens the daemon's pidfd, closed when the test ends: it tells when
// the daemon exits even though the test is not its parent.
func (d *daemon) pidfd() int {
	d.t.Helper()
	fd, err := unix.PidfdOpen(d.pid, 0)
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// waitGone waits, bounded, for the process behind pidfd to exit.
func waitGone(t *testing.T, pidfd int) {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 20000)
	if err != nil || n != 1 {
		t.Fatalf("the daemon is still alive 20s after its supervisor died (%v)", err)
	}
}
