package vmtest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// [fds].preserve: preserved fds pass at their own numbers, the same file and
// not close-on-exec; every other inherited fd, at any number, is closed (P05, P06).
func TestPreservedAndLeakedFDs(t *testing.T) {
	need(t)
	keep5, _ := os.Open("/etc/hostname")
	keep1200, _ := os.Open("/etc/passwd")
	leakDir, _ := os.Open("/")
	leakSock, _ := net.Listen("tcp", "127.0.0.1:0")
	leakSockFile, _ := leakSock.(*net.TCPListener).File()
	leakHigh, _ := os.Open("/etc/group")
	defer func() {
		for _, f := range []*os.File{keep5, keep1200, leakDir, leakSockFile, leakHigh} {
			f.Close()
		}
		leakSock.Close()
	}()
	extra := make([]*os.File, 2100-3)
	extra[4-3] = leakDir
	extra[5-3] = keep5
	extra[6-3] = leakSockFile
	extra[1200-3] = keep1200
	extra[2099-3] = leakHigh // above 1024 and far from the rest

	rep := launch{spec: minimal + "[fds]\npreserve = [1200, 5]\n", extra: extra}.ok(t)
	fds := rep.fds()
	if len(fds) != 5 {
		t.Errorf("open fds %v, want exactly 0, 1, 2, 5 and 1200", keys(fds))
	}
	for fd, f := range map[int]*os.File{5: keep5, 1200: keep1200} {
		if want := fdDevIno(t, f) + " 0"; fds[fd] != want {
			t.Errorf("fd %d is %q, want the same file, not close-on-exec (%q)", fd, fds[fd], want)
		}
	}
}

func keys(m map[int]string) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A preserved fd that daemonbox was not given is an error, not a silent gap.
func TestPreservedFDMustBeInherited(t *testing.T) {
	need(t)
	r := launch{spec: minimal + "[fds]\npreserve = [9]\n"}.do(t)
	if r.code != 125 || !strings.Contains(r.stderr, `step "preserve"`) || !strings.Contains(r.stderr, "fd 9") {
		t.Errorf("exit %d, stderr %q; want 125 naming the preserve step and fd 9", r.code, r.stderr)
	}
}

// [fds] stdin, stdout and stderr: null, inherit and files; a log file is
// appended to and created 0640, before privileges are dropped.
func TestStdio(t *testing.T) {
	need(t)
	dir := rootDir(t) // P24: a log's directory must not be the daemon's to write
	in := filepath.Join(dir, "in")
	os.WriteFile(in, []byte("input"), 0o600)
	out := filepath.Join(dir, "out.log")
	os.WriteFile(out, []byte("earlier line\n"), 0o600)
	errLog := filepath.Join(dir, "err.log")
	spec := fmt.Sprintf(`[process]
command = ["PROBE"]
[user]
user = "nobody"
[fds]
stdin = %q
stdout = %q
stderr = %q
`, in, out, errLog)
	r := launch{spec: spec}.do(t)
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q (want it in the log); stderr %s", r.code, r.stdout, r.stderr)
	}
	logged, _ := os.ReadFile(out)
	if !strings.HasPrefix(string(logged), "earlier line\n") {
		t.Errorf("the log was not appended to: %q", logged[:min(len(logged), 40)])
	}
	rep := parseReport(strings.TrimPrefix(string(logged), "earlier line\n"))
	fds := rep.fds()
	if !strings.HasPrefix(fds[0], devIno(t, in)) {
		t.Errorf("stdin %q, want the spec's file", fds[0])
	}
	// The supervisor writes the logs; the daemon's stdout and stderr are
	// pipes into it, which lets the logs be reopened after a rotation.
	if strings.HasPrefix(fds[1], devIno(t, out)) || strings.HasPrefix(fds[2], devIno(t, errLog)) {
		t.Errorf("stdout %q stderr %q: the daemon holds its log files", fds[1], fds[2])
	}
	if fi, err := os.Stat(errLog); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("created log: %v %v, want mode 0640", fi.Mode(), err)
	}

	r = launch{spec: minimal + "[fds]\nstdout = \"null\"\n"}.do(t)
	if r.code != 0 || r.stdout != "" {
		t.Errorf("stdout = null: exit %d, stdout %q", r.code, r.stdout)
	}
}

// A log path that is a symlink or a FIFO is refused, the victim untouched,
// nothing hangs, and the daemon never runs.
func TestStdioRefusesHostilePaths(t *testing.T) {
	need(t)
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("precious"), 0o600)
	link := filepath.Join(dir, "link.log")
	os.Symlink(victim, link)
	fifo := filepath.Join(dir, "fifo.log")
	syscall.Mkfifo(fifo, 0o600)
	marker := filepath.Join(dir, "ran")
	for _, path := range []string{link, fifo} {
		spec := fmt.Sprintf("[process]\ncommand = [\"/bin/touch\", %q]\n[fds]\nstdout = %q\n", marker, path)
		r := launch{spec: spec}.do(t)
		if r.code != 125 || !strings.Contains(r.stderr, `step "stdout"`) {
			t.Errorf("%s: exit %d, stderr %q; want 125 from the stdout step", path, r.code, r.stderr)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Errorf("the symlink's target was written: %q", b)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the daemon ran although its stdout was refused")
	}
}
