package vmtest

import (
	"slices"
	"strings"
	"syscall"
	"testing"
)

const minimal = `
[process]
command = ["PROBE"]
`

// The hardened defaults of a spec that says only command (spec-format.md).
func TestDefaultsAreHardened(t *testing.T) {
	need(t)
	// The launcher has groups of its own and a nonzero core limit.
	raiseCoreLimit(t)
	rep := launch{spec: minimal, groups: []uint32{4, 27}}.ok(t)
	hardenedCredentials(t, rep)
	hardenedProcess(t, rep)
}

// hardenedCredentials checks the defaults' ids, capabilities, no_new_privs
// and core limit.
func hardenedCredentials(t *testing.T, rep report) {
	t.Helper()
	if got := rep.one(t, "uid"); got != "0 0 0 0" {
		t.Errorf("uid %q, want daemonbox's own (0) in all four", got)
	}
	if got := rep.one(t, "groups"); got != "" {
		t.Errorf("groups %q: the launcher's groups must be dropped (P01)", got)
	}
	for _, set := range []string{"capinh", "capprm", "capeff", "capbnd", "capamb"} {
		if rep.hex(t, set) != 0 {
			t.Errorf("%s = %x, want no capabilities (P03)", set, rep.hex(t, set))
		}
	}
	if rep.one(t, "nnp") != "1" {
		t.Error("no_new_privs not set (P04)")
	}
	if s, h := rep.rlimit(t, "core"); s != 0 || h != 0 {
		t.Errorf("core %d/%d, want 0/0 (P21)", s, h)
	}
}

// hardenedProcess checks the defaults' signals, session, terminal,
// environment, fds, cwd and umask.
func hardenedProcess(t *testing.T, rep report) {
	t.Helper()
	ttinTtouTstp := uint64(1<<20 | 1<<21 | 1<<19)
	if got := rep.hex(t, "sigign"); got != ttinTtouTstp {
		t.Errorf("SigIgn %x, want SIGTTIN SIGTTOU SIGTSTP only (%x)", got, ttinTtouTstp)
	}
	if rep.hex(t, "sigblk") != 0 {
		t.Error("signal mask not empty (P22)")
	}
	if rep.one(t, "sid") != rep.one(t, "pid") {
		t.Error("the daemon does not lead its own session (P18)")
	}
	if got := rep.one(t, "tty_open"); got != errno(syscall.ENXIO) {
		t.Errorf("open /dev/tty: errno %s, want ENXIO: no controlling terminal (P18)", got)
	}
	for _, v := range rep["tiocsti"] {
		if strings.HasSuffix(v, " 0") {
			t.Errorf("TIOCSTI succeeded on fd %s (P18)", v)
		}
	}
	if got := rep.strings(t, "env"); !slices.Equal(got, []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}) {
		t.Errorf("environment %q, want PATH only (P19)", got)
	}
	fds := rep.fds()
	if len(fds) != 3 {
		t.Errorf("open fds %v, want 0, 1 and 2 only (P05)", fds)
	}
	if !strings.HasPrefix(fds[0], devIno(t, "/dev/null")) {
		t.Errorf("stdin is %q, want /dev/null", fds[0])
	}
	if rep.one(t, "cwd") != "/" || rep.one(t, "umask") != "0022" {
		t.Errorf("cwd %q umask %q, want / and 0022", rep.one(t, "cwd"), rep.one(t, "umask"))
	}
}

// raiseCoreLimit gives the test process (and so daemonbox) a nonzero soft
// core limit, so that a core limit of 0 in the daemon is daemonbox's doing.
func raiseCoreLimit(t *testing.T) {
	var old syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_CORE, &old)
	raised := old
	raised.Cur = raised.Max
	if raised.Cur == 0 {
		t.Skip("the hard core limit is 0 here, so the default cannot be told apart")
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &raised); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Setrlimit(syscall.RLIMIT_CORE, &old) })
}

// [process]: command verbatim, env exact, inherit_env, cwd, umask,
// no_new_privileges, oom_score_adj (P19, P20).
func TestProcessKeys(t *testing.T) {
	need(t)
	spec := `
[process]
command = ["PROBE", "report", "", "two words", "$HOME;*|&>", "ünï\tcode", "--"]
env = { LANG = "C.UTF-8", EMPTY = "", "WEIRD_VALUE" = "a=b=c" }
inherit_env = ["TZ", "NOT_SET_ANYWHERE"]
cwd = "/tmp"
umask = 0o027
no_new_privileges = false
oom_score_adj = 500
[seccomp]
enabled = false # the kernel installs a filter only with no_new_privs
`
	rep := launch{spec: spec, env: []string{"TZ=Europe/Paris", "LD_PRELOAD=/evil.so", "SECRET=hunter2", "PATH=/bin"}}.ok(t)

	wantArgv := []string{probe, "report", "", "two words", "$HOME;*|&>", "ünï\tcode", "--"}
	if got := rep.strings(t, "argv"); !slices.Equal(got, wantArgv) {
		t.Errorf("argv %q, want %q (P20)", got, wantArgv)
	}
	if got, want := rep.one(t, "cmdline"), hexJoin(wantArgv); got != want {
		t.Errorf("/proc/self/cmdline differs from the spec's command (P20)")
	}
	wantEnv := []string{"EMPTY=", "LANG=C.UTF-8", "TZ=Europe/Paris", "WEIRD_VALUE=a=b=c"}
	if got := rep.strings(t, "env"); !slices.Equal(got, wantEnv) {
		t.Errorf("environment %q, want exactly %q (P19)", got, wantEnv)
	}
	if got := rep.one(t, "cwd"); got != "/tmp" {
		t.Errorf("cwd %q, want /tmp", got)
	}
	if got := rep.one(t, "umask"); got != "0027" {
		t.Errorf("umask %q, want 0027 (P25)", got)
	}
	if got := rep.one(t, "nnp"); got != "0" {
		t.Errorf("no_new_privs %q with no_new_privileges = false", got)
	}
	if got := rep.one(t, "oom_score_adj"); got != "500" {
		t.Errorf("oom_score_adj %q, want 500", got)
	}
}

func hexJoin(words []string) string {
	var b strings.Builder
	for _, w := range words {
		for _, c := range []byte(w + "\x00") {
			b.WriteString(strings.ToLower(string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&15])))
		}
	}
	return b.String()
}

// [user]: names resolved on the host, numbers taken as they are, groups exact,
// and no way back to root (P01, P02).
func TestUserKeys(t *testing.T) {
	need(t)
	cases := []struct {
		name, user, uid, gid, groups string
	}{
		{"by name", `user = "nobody"`, "65534", "65534", ""},
		{"name, group and groups", `user = "nobody"
group = 100
groups = ["nogroup", 4242, "root"]`, "65534", "100", "0 4242 65534"},
		{"numbers without entries", `user = 4321
group = 8765`, "4321", "8765", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := launch{spec: minimal + "[user]\n" + c.user + "\n", groups: []uint32{4, 27}}.ok(t)
			if got := rep.one(t, "uid"); got != strings.Repeat(c.uid+" ", 3)+c.uid {
				t.Errorf("uid %q, want %s in all four (P01)", got, c.uid)
			}
			if got := rep.one(t, "gid"); got != strings.Repeat(c.gid+" ", 3)+c.gid {
				t.Errorf("gid %q, want %s in all four (P01)", got, c.gid)
			}
			got := strings.Fields(rep.one(t, "groups"))
			slices.Sort(got)
			if strings.Join(got, " ") != c.groups {
				t.Errorf("groups %q, want exactly %q (P01)", got, c.groups)
			}
			for _, call := range []string{"setuid0", "setresuid0", "setgid0"} {
				if got := rep.one(t, call); got != errno(syscall.EPERM) {
					t.Errorf("%s: errno %s, want EPERM (P02)", call, got)
				}
			}
		})
	}
}
