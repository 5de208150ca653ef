package vmtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const netBindService = 1 << 10

// capCase is a spec's [user] and [capabilities] and the five sets the probe
// must report for it.
type capCase struct {
	name, spec              string
	bnd, prm, eff, inh, amb uint64
}

// keptCapCases hold for any bounding set that has CAP_NET_BIND_SERVICE.
var keptCapCases = []capCase{
	{"root keeps one", `[capabilities]
keep = ["CAP_NET_BIND_SERVICE"]`, netBindService, netBindService, netBindService, 0, 0},
	{"non-root keeps one through ambient", `[user]
user = "nobody"
[capabilities]
keep = ["net_bind_service"]`, netBindService, netBindService, netBindService, netBindService, netBindService},
	{"non-root drops all", `[user]
user = "nobody"`, 0, 0, 0, 0, 0},
}

// [capabilities]: exact sets, kept across exec through ambient for a non-root
// user, and "drop all" clearing every bit up to cap_last_cap (P03).
func TestCapabilities(t *testing.T) {
	need(t)
	all := ownPermitted(t) // what daemonbox can pass on
	cases := append(keptCapCases[:len(keptCapCases):len(keptCapCases)], capCase{"root drops one by name", `[capabilities]
drop = ["CAP_SYS_ADMIN"]`, all &^ (1 << 21), all &^ (1 << 21), all &^ (1 << 21), 0, 0})
	checkCapCases(t, cases, nil)
}

// Started with most of the bounding set already gone, as under a container
// runtime, daemonbox drops only what is left (the bounding step skips the
// absent ones) and the daemon still ends with exactly the kept capability.
func TestBoundingSetAlreadyReduced(t *testing.T) {
	need(t)
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("setpriv (util-linux) is needed to start daemonbox with a reduced bounding set")
	}
	// Docker's default set, which keeps 14 of the kernel's capabilities.
	docker := "-all,+chown,+dac_override,+fowner,+fsetid,+kill,+setgid,+setuid,+setpcap," +
		"+net_bind_service,+net_raw,+sys_chroot,+mknod,+audit_write,+setfcap"
	checkCapCases(t, keptCapCases, []string{setpriv, "--bounding-set", docker, "--"})
}

// checkCapCases launches each case (under wrap, if any) and compares the
// probe's five capability sets with the case's.
func checkCapCases(t *testing.T, cases []capCase, wrap []string) {
	const last = 40
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := launch{spec: minimal + c.spec, wrap: wrap}.ok(t)
			if got := rep.one(t, "cap_last_cap"); got != fmt.Sprint(last) {
				t.Skipf("this kernel's last capability is %s, the cases assume %d", got, last)
			}
			for _, s := range []struct {
				key  string
				want uint64
			}{{"capbnd", c.bnd}, {"capprm", c.prm}, {"capeff", c.eff}, {"capinh", c.inh}, {"capamb", c.amb}} {
				if got := rep.hex(t, s.key); got != s.want {
					t.Errorf("%s = %016x, want %016x", s.key, got, s.want)
				}
			}
		})
	}
}

// A kept capability works after exec for a non-root daemon: nobody binds
// port 80 only with CAP_NET_BIND_SERVICE.
func TestKeptCapabilityIsUsable(t *testing.T) {
	need(t)
	spec := `
[process]
command = ["/usr/bin/perl", "-MIO::Socket::INET", "-e", "IO::Socket::INET->new(LocalAddr => '127.0.0.1:80', Listen => 1, ReuseAddr => 1) or exit 3; print qq(bound\n)"]
[user]
user = "nobody"
`
	if l, err := net.Listen("tcp", "127.0.0.1:80"); err != nil {
		t.Skipf("port 80 is taken here: %v", err)
	} else {
		l.Close()
	}
	r := launch{spec: spec}.do(t)
	if r.code != 3 {
		t.Errorf("without the capability: exit %d, want 3 (bind refused); %s", r.code, r.stderr)
	}
	r = launch{spec: spec + "[capabilities]\nkeep = [\"CAP_NET_BIND_SERVICE\"]\n"}.do(t)
	if r.code != 0 || r.stdout != "bound\n" {
		t.Errorf("with the capability: exit %d, stdout %q; %s", r.code, r.stdout, r.stderr)
	}
}

// [rlimits]: all sixteen, soft and hard as written, in every notation; the
// daemon cannot raise a hard limit (P21).
func TestRlimits(t *testing.T) {
	need(t)
	spec := minimal + `
[user]
user = "nobody"
[rlimits]
cpu = "1h"
fsize = "1GiB"
data = { soft = "1GiB", hard = "2GiB" }
stack = "4MiB"
core = 0
rss = "unlimited"
nproc = { soft = 500, hard = 1000 }
nofile = { soft = 64, hard = 128 }
memlock = "64KiB"
as = "4GiB"
locks = 100
sigpending = { soft = 100, hard = 200 }
msgqueue = 4096
nice = 0
rtprio = 0
rttime = "2s"
`
	rep := launch{spec: spec}.ok(t)
	const inf = ^uint64(0)
	want := map[string][2]uint64{
		"cpu": {3600, 3600}, "fsize": {1 << 30, 1 << 30}, "data": {1 << 30, 2 << 30},
		"stack": {4 << 20, 4 << 20}, "core": {0, 0}, "rss": {inf, inf}, "nproc": {500, 1000},
		"nofile": {64, 128}, "memlock": {64 << 10, 64 << 10}, "as": {4 << 30, 4 << 30},
		"locks": {100, 100}, "sigpending": {100, 200}, "msgqueue": {4096, 4096},
		"nice": {0, 0}, "rtprio": {0, 0}, "rttime": {2000000, 2000000},
	}
	for name, w := range want {
		if s, h := rep.rlimit(t, name); s != w[0] || h != w[1] {
			t.Errorf("%s = %d/%d, want %d/%d", name, s, h, w[0], w[1])
		}
	}
	if got := rep.one(t, "raise_nofile"); got != errno(syscall.EPERM) {
		t.Errorf("raising the hard nofile limit: errno %s, want EPERM", got)
	}
}

// An unset limit is the caller's, soft nofile included: Go raises its own
// soft nofile limit at start-up, and must not pass that on.
func TestUnsetLimitsAreInherited(t *testing.T) {
	need(t)
	var old syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old)
	low := syscall.Rlimit{Cur: 77, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
		t.Fatal(err)
	}
	defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
	rep := launch{spec: minimal}.ok(t)
	if s, h := rep.rlimit(t, "nofile"); s != 77 || h != old.Max {
		t.Errorf("nofile %d/%d, want the caller's 77/%d", s, h, old.Max)
	}
}

// With core = 0 a crashing daemon leaves no core file, even though the
// caller allows core dumps; with core set, it does (P21).
func TestCoreDumps(t *testing.T) {
	need(t)
	pattern, _ := os.ReadFile("/proc/sys/kernel/core_pattern")
	if strings.TrimSpace(string(pattern)) != "core" {
		t.Skipf("core_pattern is %q; this test reads a core file named core in the cwd", pattern)
	}
	raiseCoreLimit(t)
	for _, c := range []struct {
		limit    string
		wantCore bool
	}{{"0", false}, {`"unlimited"`, true}} {
		dir, err := os.MkdirTemp("", "core-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		os.Chmod(dir, 0o777)
		spec := fmt.Sprintf("[process]\ncommand = [\"PROBE\", \"segv\", %q]\n[user]\nuser = \"nobody\"\n[rlimits]\ncore = %s\n", dir, c.limit)
		r := launch{spec: spec}.do(t)
		if r.code != 128+int(syscall.SIGSEGV) {
			t.Errorf("core = %s: exit %d, want death by SIGSEGV; %s", c.limit, r.code, r.stderr)
		}
		_, err = os.Stat(filepath.Join(dir, "core"))
		if got := err == nil; got != c.wantCore {
			t.Errorf("core = %s: core file present %v, want %v", c.limit, got, c.wantCore)
		}
	}
}

// ownPermitted is this test process's permitted set, which daemonbox inherits.
func ownPermitted(t *testing.T) uint64 { return ownCaps(t, "CapPrm") }

// ownCaps reads one of this test process's capability sets ("CapEff").
func ownCaps(t *testing.T, set string) uint64 {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, set+":\t"); ok {
			var n uint64
			fmt.Sscanf(v, "%x", &n)
			return n
		}
	}
	t.Fatalf("no %s in /proc/self/status", set)
	return 0
}
