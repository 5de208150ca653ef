package vmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// [filesystem].root: a chroot whose "/" is the root directory, the cwd inside
// it, ".." ending at "/", and no way to chroot again (P07).
func TestChroot(t *testing.T) {
	need(t)
	root := jail(t, "srv/data")
	spec := fmt.Sprintf(`[process]
command = ["/probe"]
cwd = "/srv/data"
[user]
user = "nobody"
[filesystem]
root = %q
`, root) + mechanismsOnly
	rep := launch{spec: spec}.ok(t)
	if got := rep.one(t, "root"); got != devIno(t, root) {
		t.Errorf("the daemon's / is %q, want the root directory %q", got, devIno(t, root))
	}
	if got := rep.one(t, "cwd"); got != "/srv/data" {
		t.Errorf("cwd %q, want /srv/data inside the root", got)
	}
	if rep.one(t, "dotdot_is_root") != "1" {
		t.Error("walking up with .. does not end at the root (P07)")
	}
	if got := rep.one(t, "chroot"); got != errno(syscall.EPERM) {
		t.Errorf("chroot inside the sandbox: errno %s, want EPERM (P07)", got)
	}
}

// P10: the root, and each ancestor, must be a root-owned directory that no
// one else can write; anything else is refused before any side effect.
func TestRootValidation(t *testing.T) {
	need(t)
	good := jail(t)
	owned := jail(t)
	os.Chown(owned, 65534, 65534)
	writable := jail(t)
	os.Chmod(writable, 0o777)
	parent := jail(t, "inner")
	os.Chmod(parent, 0o775)
	link := filepath.Join(jailBase, "link-"+filepath.Base(good))
	os.Symlink(good, link)
	t.Cleanup(func() { os.Remove(link) })
	file := filepath.Join(good, "probe")
	underTmp, _ := os.MkdirTemp("", "root-")
	defer os.RemoveAll(underTmp)
	os.Chmod(underTmp, 0o755)

	cases := map[string]string{
		owned:                          "is owned by uid 65534",
		writable:                       "is writable by group or others",
		filepath.Join(parent, "inner"): "is writable by group or others",
		link:                           "is a symbolic link",
		file:                           "is not a directory",
		filepath.Join(good, "missing"): "no such file or directory",
		underTmp:                       "is writable by group or others",
	}
	for root, want := range cases {
		marker := filepath.Join(t.TempDir(), "ran")
		spec := fmt.Sprintf("[process]\ncommand = [\"/bin/touch\", %q]\n[filesystem]\nroot = %q\n", marker, root)
		for _, cmd := range []string{"check", "run"} {
			r := launch{spec: spec, cmd: cmd}.do(t)
			if r.code != 125 || !strings.Contains(r.stderr, "filesystem.root") || !strings.Contains(r.stderr, want) {
				t.Errorf("%s with root %s: exit %d, stderr %q; want 125 saying %q", cmd, root, r.code, r.stderr, want)
			}
		}
		if _, err := os.Stat(marker); err == nil {
			t.Errorf("root %s: the daemon ran", root)
		}
	}
}

// P04: with no_new_privs, a setuid-root program inside the root runs with
// the daemon's euid; without it, the kernel honours the setuid bit.
func TestNoNewPrivsDefeatsSetuid(t *testing.T) {
	need(t)
	root := jail(t)
	helper := filepath.Join(root, "suid-probe")
	copyFile(t, probe, helper, 0o755)
	os.Chown(helper, 0, 0)
	if err := os.Chmod(helper, os.ModeSetuid|0o755); err != nil {
		t.Fatal(err)
	}
	// The kernel installs a filter only under no_new_privs: off with it.
	for _, c := range []struct{ nnp, euid, seccomp string }{{"true", "65534", "true"}, {"false", "0", "false"}} {
		spec := fmt.Sprintf(`[process]
command = ["/probe", "report", "--helper", "/suid-probe"]
no_new_privileges = %s
[user]
user = "nobody"
[filesystem]
root = %q
[seccomp]
enabled = %s
`, c.nnp, root, c.seccomp)
		rep := launch{spec: spec}.ok(t)
		if got := rep.one(t, "helper_euid"); got != c.euid {
			t.Errorf("no_new_privileges = %s: the setuid-root helper ran with euid %s, want %s", c.nnp, got, c.euid)
		}
	}
}

// A command that is missing inside the root, or not executable, is refused
// before any step, located at process.command[0], with 125 (as check
// refuses it); what only execve can find out (a file that is no program,
// a script whose interpreter is missing) is reported synchronously with 127
// or 126 and the step's errno.
func TestExecFailures(t *testing.T) {
	need(t)
	root := jail(t, "dir")
	os.WriteFile(filepath.Join(root, "data"), []byte("not a program"), 0o644)
	os.WriteFile(filepath.Join(root, "noexec"), []byte("#!/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "garbage"), []byte("\x7fELF but not really"), 0o755)
	os.WriteFile(filepath.Join(root, "script"), []byte("#!/no/such/interpreter\n"), 0o755)
	in := " inside the root " + root
	cases := []struct {
		cmd  string
		code int
		msg  string
	}{
		{"/missing", 127, ":2:12: process.command[0]: /missing does not exist" + in + ", so exec would fail with ENOENT"},
		{probe, 127, ": process.command[0]: " + probe + " does not exist" + in}, // exists on the host, not inside the root
		{"/noexec", 126, ": process.command[0]: /noexec" + in + " is not executable by the daemon's uid 0, gid 0 and groups [] (mode 0644, owner 0:0), so exec would fail with EACCES"},
		{"/dir", 126, ": process.command[0]: /dir" + in + " is a directory, not a regular file"},
		{"/data", 126, "is not executable by the daemon's uid 0"},
		{"/garbage", 126, "daemonbox: step \"exec\": execve /garbage: exec format error\n"},
		{"/script", 127, "daemonbox: step \"exec\": execve /script: no such file or directory\n"},
	}
	for _, c := range cases {
		for _, leader := range []bool{false, true} {
			spec := fmt.Sprintf("[process]\ncommand = [%q]\n[filesystem]\nroot = %q\n", c.cmd, root)
			r := launch{spec: spec, groupLeader: leader}.do(t)
			if r.code != c.code || !strings.Contains(r.stderr, c.msg) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("%s (supervised %v): exit %d, stderr %q; want %d, one line with %q", c.cmd, leader, r.code, r.stderr, c.code, c.msg)
			}
		}
	}
}
