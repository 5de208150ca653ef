package vmtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	daemonbox  string // the static binary under test
	probe      string // the static probe
	jailBase   string // root-owned, mode 0755: chroots may be made below it
	skipReason string
	strict     = os.Getenv("DAEMONBOX_VMTEST_STRICT") == "1"
	// inGuest: the suite runs in vmtest/vm's guest, which has no compiler
	// and none of the host's tools beyond those it packs.
	inGuest = os.Getenv("DAEMONBOX_VMTEST_PREBUILT") != ""
)

func TestMain(m *testing.M) {
	defaultJobSignals()
	os.Exit(testMain(m))
}

// defaultJobSignals: under nohup, or as a script's background job, the
// suite starts with SIGHUP or SIGINT ignored, and so would every daemonbox
// it runs, which then keeps the launch off one image (a daemon would
// inherit the ignored signal) and fails the tests that force that path.
// Catching them here gives the children the default action again; one
// that comes is dropped, as it was ignored before.
func defaultJobSignals() {
	for _, sig := range []os.Signal{syscall.SIGHUP, syscall.SIGINT} {
		if signal.Ignored(sig) {
			signal.Notify(make(chan os.Signal, 1), sig)
		}
	}
}

func testMain(m *testing.M) int {
	if code, ran := vmMode(); ran {
		return code
	}
	if os.Geteuid() != 0 {
		if skipReason == "" {
			skipReason = "vmtest needs root (it sets credentials, capabilities and chroots): run `sudo go test ./vmtest`"
		}
		return m.Run()
	}
	bin, err := os.MkdirTemp("", "daemonbox-vmtest-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(bin)
	os.Chmod(bin, 0o755) // the daemon's users must reach the probe
	if err := build(bin); err != nil {
		skipReason = err.Error()
		return m.Run()
	}
	// A chroot's ancestors must not be writable by others, so not /tmp.
	jailBase, err = os.MkdirTemp("/var/lib", "daemonbox-vmtest-")
	if err == nil {
		err = os.Chmod(jailBase, 0o755)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(jailBase)
	rootlessSkip = makeRootlessUser()
	return runBeside(m)
}

// runBeside runs the tests beside the bystander, an unrelated service
// (bystander_test.go), and fails the run if any of them disturbed it.
func runBeside(m *testing.M) int {
	b, err := startBystander()
	if err != nil {
		bystanderSkip = err.Error()
		return m.Run()
	}
	theBystander = b
	code := m.Run()
	if err := b.untouched(); err != nil {
		fmt.Fprintf(os.Stderr, "vmtest: the unrelated service %q was disturbed by the suite: %v\n", bystanderName, err)
		code = 1
	}
	if err := b.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "vmtest: bystander:", err)
		code = 1
	}
	return code
}

func build(dir string) error {
	daemonbox = filepath.Join(dir, "daemonbox")
	probe = filepath.Join(dir, "probe")
	if pre := os.Getenv("DAEMONBOX_VMTEST_PREBUILT"); pre != "" {
		// In the VM's guest (vmtest/vm), which has no compiler: the host
		// built both.
		daemonbox, probe = filepath.Join(pre, "daemonbox"), filepath.Join(pre, "probe")
		return nil
	}
	cmd := exec.Command("go", "build", "-o", daemonbox, "../cmd/daemonbox")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build daemonbox: %v\n%s", err, out)
	}
	cmd = exec.Command("gcc", "-static", "-O2", "-Wall", "-o", probe, "probe/probe.c")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building the probe needs gcc and static glibc (apt-get install gcc libc6-dev): %v\n%s", err, out)
	}
	return nil
}

// need skips t (fails it in strict mode) when the suite cannot run here.
func need(t *testing.T) {
	t.Helper()
	if skipReason == "" {
		return
	}
	if strict {
		t.Fatal(skipReason)
	}
	t.Skip(skipReason)
}

// launch is one daemonbox invocation.
type launch struct {
	spec        string   // TOML; PROBE stands for the probe's path
	file        string   // a spec file to use as it is, instead of spec
	cmd         string   // "run" (default), "check" or "explain"
	args        []string // flags between the command and the spec file
	wrap        []string
	extra       []*os.File // at fds 3, 4, ...; nil entries are closed
	env         []string
	groupLeader bool // as an interactive shell makes it: daemonbox supervises
	groups      []uint32
	unmapped    bool // in a user namespace where only uid 0 is mapped
	asNobody    bool // daemonbox itself runs as uid 65534
	rootless    bool // daemonbox itself runs as the unprivileged test user
}

type result struct {
	stdout, stderr string
	code           int
	rep            report
}

// ownName is a daemon name of this test process's own: a name is a
// cgroup (daemonbox/NAME), and another suite or service on this machine may
// run a daemon of the same plain name at the same time.
func ownName(name string) string { return fmt.Sprintf("%s-%d", name, os.Getpid()) }

// specFile writes a spec to a new file and returns its path. The file's
// name, which names a spec without a name key, is this process's own.
func specFile(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o755) // readable by daemonbox run as nobody
	os.Chmod(filepath.Dir(dir), 0o755)
	path := filepath.Join(dir, ownName("spec")+".toml")
	text = strings.ReplaceAll(text, "PROBE", probe)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func (l launch) command(t *testing.T, ctx context.Context) *exec.Cmd {
	t.Helper()
	sub := l.cmd
	if sub == "" {
		sub = "run"
	}
	file := l.file
	if file == "" {
		file = specFile(t, l.spec)
	}
	argv := append(append(append(append([]string{}, l.wrap...), daemonbox, sub), l.args...), file)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = l.env
	if cmd.Env == nil {
		cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
		// DAEMONBOX_LAUNCH=staged go test ./vmtest runs the whole suite on
		// the staged path; a test that forces a path sets its own env.
		if v, ok := os.LookupEnv("DAEMONBOX_LAUNCH"); ok {
			cmd.Env = append(cmd.Env, "DAEMONBOX_LAUNCH="+v)
		}
	}
	cmd.ExtraFiles = l.extra
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: l.groupLeader}
	if l.groups != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 0, Gid: 0, Groups: l.groups}
	}
	if l.asNobody {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: 65534, Gid: 65534, Groups: []uint32{}}
	}
	if l.rootless {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: rootlessUID, Gid: rootlessGID, Groups: []uint32{}}
	}
	if l.unmapped {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWUSER
		cmd.SysProcAttr.UidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 1}}
		cmd.SysProcAttr.GidMappings = []syscall.SysProcIDMap{{ContainerID: 0, HostID: 0, Size: 65536}}
		cmd.SysProcAttr.GidMappingsEnableSetgroups = true
	}
	return cmd
}

// do runs the launch to its end, within a bounded time.
func (l launch) do(t *testing.T) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := l.command(t, ctx)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		if ws := ee.Sys().(syscall.WaitStatus); ws.Signaled() {
			r.code = 128 + int(ws.Signal())
		}
	case err != nil:
		t.Fatalf("daemonbox: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("daemonbox did not finish within the bound; stderr: %s", r.stderr)
	}
	r.rep = parseReport(r.stdout)
	return r
}

// ok runs the launch and requires exit 0 and a complete probe report.
func (l launch) ok(t *testing.T) report {
	t.Helper()
	r := l.do(t)
	if r.code != 0 || !r.rep.has("end") {
		t.Fatalf("exit %d, want 0 with a full report\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	return r.rep
}

// report is the probe's output: each key with the rest of each of its lines.
type report map[string][]string

func parseReport(s string) report {
	r := report{}
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		r[k] = append(r[k], v)
	}
	return r
}

func (r report) has(key string) bool { return len(r[key]) > 0 }

// one is the value of a key that appears once.
func (r report) one(t *testing.T, key string) string {
	t.Helper()
	if len(r[key]) != 1 {
		t.Fatalf("probe reported %q %d times, want once", key, len(r[key]))
	}
	return r[key][0]
}

// num is a decimal or hexadecimal value.
func (r report) hex(t *testing.T, key string) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(r.one(t, key), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// strings decodes a key's hex-encoded values (argv, env).
func (r report) strings(t *testing.T, key string) []string {
	t.Helper()
	var out []string
	for _, v := range r[key] {
		if v == "-" {
			out = append(out, "")
			continue
		}
		b, err := hex.DecodeString(v)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

// fds maps each open fd to "dev ino cloexec".
func (r report) fds() map[int]string {
	out := map[int]string{}
	for _, v := range r["fd"] {
		num, rest, _ := strings.Cut(v, " ")
		n, _ := strconv.Atoi(num)
		out[n] = rest
	}
	return out
}

// rlimit returns soft and hard for a resource.
func (r report) rlimit(t *testing.T, name string) (uint64, uint64) {
	t.Helper()
	for _, v := range r["rlimit"] {
		f := strings.Fields(v)
		if f[0] == name {
			soft, _ := strconv.ParseUint(f[1], 10, 64)
			hard, _ := strconv.ParseUint(f[2], 10, 64)
			return soft, hard
		}
	}
	t.Fatalf("no rlimit %s in the report", name)
	return 0, 0
}

// devIno is how the probe names a file: "dev ino".
func devIno(t *testing.T, path string) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %d", st.Dev, st.Ino)
}

func fdDevIno(t *testing.T, f *os.File) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %d", st.Dev, st.Ino)
}

// rootDir makes a directory that only root can write, as are its ancestors.
func rootDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp(jailBase, "dir-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// jail makes a chroot directory holding the probe at /probe and the given
// directories; it is root-owned, mode 0755, like its ancestors.
func jail(t *testing.T, dirs ...string) string {
	t.Helper()
	root := rootDir(t)
	copyFile(t, probe, filepath.Join(root, "probe"), 0o755)
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	os.Chmod(to, mode)
}

// errno is how the probe reports a failed call.
func errno(e syscall.Errno) string { return strconv.Itoa(int(e)) }
