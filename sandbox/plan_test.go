package sandbox

import (
	"slices"
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/spec"
)

// rootHost is a root launcher holding every capability but CAP_SYS_RESOURCE,
// like this project's test machines.
func rootHost() *Host {
	all := caps.Upto(40) &^ (1 << 24)
	return &Host{
		Caps: caps.Sets{Bounding: all, Permitted: all, Effective: all}, LastCap: 40,
		Rlimit:     func(int) (uint64, uint64, error) { return 1024, 4096, nil },
		NrOpen:     func() (uint64, error) { return 1 << 20, nil },
		PasswdFile: "testdata/passwd", GroupFile: "testdata/group",
		LookupEnv: func(string) (string, bool) { return "", false },
	}
}

func plan(t *testing.T, h *Host, doc string) (*Plan, error) {
	t.Helper()
	s, err := spec.Parse("t.toml", []byte("[process]\ncommand = [\"/bin/true\"]\n"+doc))
	if err != nil {
		t.Fatal(err)
	}
	return NewPlan(s, h)
}

func TestPlanCredentials(t *testing.T) {
	cases := []struct {
		doc      string
		uid, gid uint32
		groups   []uint32
	}{
		{"", 0, 0, []uint32{}},
		{"[user]\nuser = \"www-data\"\n", 33, 33, []uint32{}},
		{"[user]\nuser = \"www-data\"\ngroup = \"nogroup\"\ngroups = [\"ssl-cert\", 7]\n", 33, 65534, []uint32{112, 7}},
		{"[user]\nuser = 65534\n", 65534, 65534, []uint32{}},
		{"[user]\nuser = 4000\ngroup = 4001\n", 4000, 4001, []uint32{}},
	}
	for _, c := range cases {
		p, err := plan(t, rootHost(), c.doc)
		if err != nil {
			t.Errorf("%q: %v", c.doc, err)
			continue
		}
		if p.UID != c.uid || p.GID != c.gid || !slices.Equal(p.Groups, c.groups) {
			t.Errorf("%q: uid %d gid %d groups %v, want %d %d %v", c.doc, p.UID, p.GID, p.Groups, c.uid, c.gid, c.groups)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	cases := []struct{ doc, want string }{
		{"[user]\nuser = \"mallory\"\n", `t.toml:4:8: user.user: unknown name "mallory" (looked up in the host's testdata/passwd)`},
		{"[user]\nuser = \"33\"\n", `t.toml:4:8: user.user: unknown name "33"`},
		{"[user]\nuser = 4000\n", "t.toml:4:8: user.user: uid 4000 has no entry in testdata/passwd, so user.group is required"},
		{"[user]\ngroups = [\"wheel\"]\n", `t.toml:4:11: user.groups[0]: unknown name "wheel"`},
		{"[capabilities]\nkeep = [\"CAP_SYS_RESOURCE\"]\n", "t.toml:4:9: capabilities.keep: daemonbox does not hold CAP_SYS_RESOURCE, so it cannot pass it on"},
		{"[rlimits]\nnofile = 8192\n", "t.toml:4:10: rlimits.nofile: hard limit 8192 is above daemonbox's own (4096); raising it needs CAP_SYS_RESOURCE"},
		{"[filesystem]\nroot = \"/tmp\"\n", "t.toml:4:8: filesystem.root: /tmp: is writable by group or others (mode 01777)"},
		{"[filesystem]\nroot = \"/no/such/dir\"\n", "t.toml:4:8: filesystem.root: /no/such/dir: no such file or directory"},
		{"[filesystem]\nroot = \"/usr\"\n", ""}, // a good root: no error
	}
	for _, c := range cases {
		_, err := plan(t, rootHost(), c.doc)
		if c.want == "" {
			if err != nil {
				t.Errorf("%q: %v", c.doc, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q:\n got %v\nwant %s", c.doc, err, c.want)
		}
	}
}

func TestPlanCapabilities(t *testing.T) {
	h := rootHost()
	cases := []struct {
		doc     string
		keep    caps.Set
		ambient bool
	}{
		{"", 0, false},
		{"[capabilities]\nkeep = [\"CAP_NET_BIND_SERVICE\"]\n", 1 << 10, false},
		{"[user]\nuser = \"nobody\"\n[capabilities]\nkeep = [\"CAP_NET_BIND_SERVICE\"]\n", 1 << 10, true},
		{"[capabilities]\ndrop = [\"CAP_SYS_ADMIN\"]\n", h.Caps.Permitted &^ (1 << 21), false},
		{"[capabilities]\ndrop = []\n", h.Caps.Permitted, false},
	}
	for _, c := range cases {
		p, err := plan(t, h, c.doc)
		if err != nil {
			t.Fatal(err)
		}
		if p.Caps.Keep != c.keep || p.Caps.Ambient != c.ambient {
			t.Errorf("%q: keep %#x ambient %v, want %#x %v", c.doc, p.Caps.Keep, p.Caps.Ambient, c.keep, c.ambient)
		}
	}
}

// An unprivileged launcher is refused before anything happens.
func TestPlanUnprivileged(t *testing.T) {
	h := rootHost()
	h.Euid, h.Caps = 1000, caps.Sets{}
	_, err := plan(t, h, "")
	if err == nil || !strings.Contains(err.Error(), "t.toml:1:1: daemonbox runs as uid 1000 without CAP_SETUID, CAP_SETGID, CAP_SETPCAP") {
		t.Errorf("got %v", err)
	}
}

func TestPasswdParsing(t *testing.T) {
	e, found, err := findEntry("testdata/passwd", true, "www-data", 0)
	if err != nil || !found || e.id != 33 || e.gid != 33 {
		t.Errorf("%+v %v %v", e, found, err)
	}
	e, found, _ = findEntry("testdata/group", false, "", 112)
	if !found || e.name != "ssl-cert" {
		t.Errorf("%+v", e)
	}
	if _, found, _ := findEntry("testdata/passwd", true, "# a comment", 0); found {
		t.Error("a comment matched")
	}
}

// The order of mounts is data too: the root's own read-only paths first,
// daemonbox's mounts parents first, then what must be read-only over them,
// then the masked paths.
func TestMountOrder(t *testing.T) {
	s, err := spec.Parse("t.toml", []byte(`[process]
command = ["/bin/true"]
[filesystem]
readonly = ["/", "/data/conf"]
tmpfs = ["/data/tmp", "/tmp"]
masked = ["/etc/secret"]
[[filesystem.bind]]
source = "/srv"
target = "/data"
readonly = true
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range (&resolver{s: s}).mounts(false, nil) {
		got = append(got, string(m.Kind)+" "+m.Target)
	}
	want := []string{"readonly /", "bind /data", "tmpfs /tmp", "tmpfs /data/tmp", "readonly /data",
		"readonly /data/conf", "masked /sys/firmware", "masked /sys/devices/virtual/powercap", "masked /etc/secret"}
	if !slices.Equal(got, want) {
		t.Errorf("mounts %q\nwant   %q", got, want)
	}
}

// Without a read-only "/", the root's /sys is made read-only first, before
// any of daemonbox's mounts, so that a bind the spec asks for under it stays
// writable.
func TestSysReadonlyFirst(t *testing.T) {
	s, err := spec.Parse("t.toml", []byte("[process]\ncommand = [\"/bin/true\"]\n[filesystem]\ntmpfs = [\"/sys/fs/cgroup\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := (&resolver{s: s}).mounts(false, nil)
	if len(got) < 2 || got[0] != (Mount{Kind: MountReadonly, Target: "/sys", Optional: true}) || got[1].Target != "/sys/fs/cgroup" {
		t.Errorf("mounts %+v, want the optional read-only /sys first, then the tmpfs", got)
	}
}

// A service manager waiting for readiness ($NOTIFY_SOCKET of daemonbox) is
// resolved into the plan, and a daemon it waits for is supervised.
func TestPlanManager(t *testing.T) {
	h := rootHost()
	p, err := plan(t, h, "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Manager != "" || p.NeedsSupervisor() {
		t.Errorf("without NOTIFY_SOCKET: manager %q, supervised %v", p.Manager, p.NeedsSupervisor())
	}
	h.LookupEnv = func(name string) (string, bool) {
		if name == "NOTIFY_SOCKET" {
			return "/run/systemd/notify", true
		}
		return "", false
	}
	p, err = plan(t, h, "")
	if err != nil {
		t.Fatal(err)
	}
	if p.Manager != "/run/systemd/notify" || !p.NeedsSupervisor() {
		t.Errorf("with NOTIFY_SOCKET: manager %q, supervised %v", p.Manager, p.NeedsSupervisor())
	}
}
