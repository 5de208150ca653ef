package vmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// P01-P03, P07, P25 (umask) rootless: the daemon is exactly the spec's user
// inside, with no way back, exactly the kept capability in all five sets,
// in a chroot it cannot walk out of.
func TestRootlessConfinement(t *testing.T) {
	needRootless(t)
	root := jail(t, "srv")
	rep := launch{rootless: true, spec: fmt.Sprintf(`[process]
command = ["/probe"]
cwd = "/srv"
umask = 0o027
[user]
user = "nobody"
[filesystem]
root = %q
[namespaces]
user = true
[capabilities]
keep = ["CAP_NET_BIND_SERVICE"]
`, root) + mechanismsOnly}.ok(t)
	for key, want := range map[string]string{
		"uid": "65534 65534 65534 65534", "gid": "65534 65534 65534 65534", "groups": "",
		"cwd": "/srv", "dotdot_is_root": "1", "umask": "0027", "nnp": "1",
		"setuid0": errno(unix.EINVAL), "setresuid0": errno(unix.EINVAL), "setgid0": errno(unix.EINVAL),
		"chroot": errno(unix.EPERM), "raise_nofile": errno(unix.EPERM),
	} {
		if got := rep.one(t, key); got != want {
			t.Errorf("%s %q, want %q", key, got, want)
		}
	}
	for _, set := range []string{"capbnd", "capprm", "capeff", "capinh", "capamb"} {
		if got := rep.hex(t, set); got != netBindService {
			t.Errorf("%s = %016x, want CAP_NET_BIND_SERVICE only", set, got)
		}
	}
}

// P15: setgroups is denied, and the maps are one line each: the caller's
// own uid and gid as the daemon's; host uid 0 is in neither.
func TestRootlessMaps(t *testing.T) {
	needRootless(t)
	r := isolated(t, mode{rootless: true}, "")
	want := map[string]string{
		"uid_map":   fmt.Sprintf("65534 %d 1", rootlessUID),
		"gid_map":   fmt.Sprintf("65534 %d 1", rootlessGID),
		"setgroups": "deny",
	}
	for k, v := range want {
		if got := r.one(t, k); got != v {
			t.Errorf("%s %q, want %q", k, got, v)
		}
	}
}

// As root, the default map is each of the daemon's ids to itself, with
// setgroups allowed so that the spec's groups are set exactly; uid_map maps
// the daemon elsewhere, and the host sees what it creates as that uid. The
// mount point /shared is made by the supervisor, which the daemon's ids
// could not.
func TestUserNamespaceAsRoot(t *testing.T) {
	need(t)
	r := isolated(t, mode{}, "groups = [\"users\"]\n[namespaces]\nuser = true\n")
	for k, v := range map[string]string{"uid_map": "65534 65534 1", "gid_map": "65534 65534 1;100 100 1", "setgroups": "allow"} {
		if got := r.one(t, k); got != v {
			t.Errorf("default map: %s %q, want %q", k, got, v)
		}
	}

	shared := rootDir(t)
	os.Chmod(shared, 0o777)
	spec := fmt.Sprintf(`[process]
command = ["/probe", "isolation", "write=/shared/made"]
[user]
user = 0
group = 0
[filesystem]
root = %q
[namespaces]
user = true
uid_map = [{ inside = 0, outside = 100000, count = 65536 }]
gid_map = [{ inside = 0, outside = 100000, count = 65536 }]
[[filesystem.bind]]
source = %q
target = "/shared"
`, jail(t), shared)
	launch{spec: spec}.ok(t)
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join(shared, "made"), &st); err != nil || st.Uid != 100000 || st.Gid != 100000 {
		t.Errorf("a file made by uid 0 inside: owner %d:%d (%v), want 100000:100000", st.Uid, st.Gid, err)
	}
}

// What needs host privilege is refused when daemonbox has none, at
// validation, with the reason; and so is a default map that would put host
// uid 0 in the namespace. Nothing is created.
func TestUserNamespaceRefusals(t *testing.T) {
	needRootless(t)
	dir := rootDir(t)
	os.Chown(dir, int(rootlessUID), int(rootlessGID))
	pidfile := filepath.Join(dir, "d.pid")
	cases := []struct {
		name, process, spec, want string
		rootless                  bool
	}{
		{"no user namespace", "", "", "an unprivileged launch needs namespaces.user = true", true},
		{"groups", "", "[user]\ngroups = [\"users\"]\n[namespaces]\nuser = true\n", "user.groups: unprivileged, daemonbox cannot set supplementary groups", true},
		{"wide map", "", "[namespaces]\nuser = true\nuid_map = [{ inside = 0, outside = 100000, count = 65536 }]\n", "namespaces.uid_map: unprivileged, daemonbox can map only its own uid", true},
		{"negative oom_score_adj", "oom_score_adj = -100\n", "[namespaces]\nuser = true\n", "process.oom_score_adj: a negative value needs CAP_SYS_RESOURCE", true},
		{"host root by default", "", "[namespaces]\nuser = true\n", "would put host uid 0 in the namespace", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := fmt.Sprintf("[process]\ncommand = [\"PROBE\"]\n%s[daemon]\npidfile = %q\n%s", c.process, pidfile, c.spec)
			r := launch{spec: text, rootless: c.rootless}.do(t)
			if r.code != 125 || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
				t.Errorf("exit %d, stderr %q; want 125 and %q, and no daemon", r.code, r.stderr, c.want)
			}
			if fileExists(pidfile) {
				t.Error("a refused spec left a pidfile")
			}
		})
	}
}

// oom_score_adj is set in a user namespace too, root and rootless: the
// stage writes it while its /proc/self is still its own (dumpable).
func TestOOMScoreInUserNamespace(t *testing.T) { eachMode(t, oomScoreInUserNamespace) }

func oomScoreInUserNamespace(t *testing.T, m mode) {
	spec := "[process]\ncommand = [\"PROBE\"]\noom_score_adj = 300\n[user]\nuser = \"nobody\"\n[namespaces]\n"
	if !m.rootless {
		spec += "user = true\n"
	}
	if got := m.launch(spec).ok(t).one(t, "oom_score_adj"); got != "300" {
		t.Errorf("oom_score_adj %q, want 300", got)
	}
}
