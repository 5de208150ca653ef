package export

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/cgroup"
	"github.com/daemonbox/daemonbox/rlimit"
	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func testPlan() (*spec.Spec, *sandbox.Plan) {
	oom, mem, swap, pids, quota, weight := 100, uint64(64<<20), uint64(0), int64(32), int64(50000), uint64(50)
	p := &sandbox.Plan{
		Launch: sandbox.Launch{
			Argv: []string{"/bin/daemon", "-f"}, Env: []string{"PATH=/bin"}, Root: "/", Cwd: "/srv",
			Umask: 0o027, NoNewPrivs: true, OOMScoreAdj: &oom, UID: 65534, GID: 65534, Groups: []uint32{100},
			Caps:    caps.Want{Keep: caps.Of(unix.CAP_NET_BIND_SERVICE), Ambient: true},
			Rlimits: []rlimit.Limit{{Name: "nofile", Resource: unix.RLIMIT_NOFILE, Soft: 256, Hard: 1024}},
			Unshare: unix.CLONE_NEWNS | unix.CLONE_NEWNET | unix.CLONE_NEWUTS, PIDNS: true, Init: true, Hostname: "web",
			Mounts: []sandbox.Mount{
				{Kind: sandbox.MountReadonly, Target: "/"},
				{Kind: sandbox.MountBind, Source: "/var/lib/web", Target: "/data", Readonly: true},
				{Kind: sandbox.MountTmpfs, Target: "/tmp"},
				{Kind: sandbox.MountProc, Target: "/proc"},
				{Kind: sandbox.MountReadonly, Target: "/data"},
				{Kind: sandbox.MountReadonly, Target: "/proc/sys", Optional: true},
				{Kind: sandbox.MountMasked, Target: "/proc/kcore", Optional: true},
			},
		},
		Lifecycle: sandbox.Lifecycle{Name: "web", Stdio: [3]spec.Stdio{{Kind: spec.StdioNull}, {Kind: spec.StdioInherit}, {Kind: spec.StdioInherit}},
			Cgroup: sandbox.Cgroup{Set: true, Limits: cgroup.Limits{MemoryMax: &mem, MemorySwapMax: &swap, PidsMax: &pids,
				CPUQuota: &quota, CPUPeriod: 100000, CPUWeight: &weight}}},
	}
	return &spec.Spec{Landlock: spec.Landlock{Set: true}}, p
}

func TestOCIConfig(t *testing.T) {
	s, p := testPlan()
	c, err := OCI(s, p)
	if err != nil {
		t.Fatal(err)
	}
	pr := c.Process
	if pr.Terminal || !slices.Equal(pr.Args, p.Argv) || pr.Cwd != "/srv" || *pr.User.Umask != 0o027 || pr.User.UID != 65534 ||
		!slices.Equal(pr.User.AdditionalGids, []uint32{100}) || !pr.NoNewPrivileges || *pr.OOMScoreAdj != 100 {
		t.Errorf("process: %+v", pr)
	}
	for _, set := range [][]string{pr.Capabilities.Bounding, pr.Capabilities.Effective, pr.Capabilities.Permitted,
		pr.Capabilities.Inheritable, pr.Capabilities.Ambient} {
		if !slices.Equal(set, []string{"CAP_NET_BIND_SERVICE"}) {
			t.Errorf("capabilities: %+v", pr.Capabilities)
		}
	}
	if len(pr.Rlimits) != 1 || pr.Rlimits[0] != (specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: 256, Hard: 1024}) {
		t.Errorf("rlimits: %+v", pr.Rlimits)
	}
	var ns []string
	for _, n := range c.Linux.Namespaces {
		ns = append(ns, string(n.Type))
	}
	if !slices.Equal(ns, []string{"mount", "pid", "network", "uts"}) || c.Hostname != "web" {
		t.Errorf("namespaces %v, hostname %q", ns, c.Hostname)
	}
	if c.Linux.RootfsPropagation != "rprivate" { // as daemonbox's mount namespace: no host mount comes in later
		t.Errorf("rootfsPropagation %q", c.Linux.RootfsPropagation)
	}
	if !slices.Equal(c.Linux.ReadonlyPaths, []string{"/proc/sys"}) || !slices.Equal(c.Linux.MaskedPaths, []string{"/proc/kcore"}) {
		t.Errorf("readonly %v, masked %v", c.Linux.ReadonlyPaths, c.Linux.MaskedPaths)
	}
	r := c.Linux.Resources
	if *r.Memory.Limit != 64<<20 || *r.Memory.Swap != 64<<20 || *r.Pids.Limit != 32 || *r.CPU.Quota != 50000 ||
		*r.CPU.Period != 100000 || *r.CPU.Shares != 512 || c.Linux.CgroupsPath != "" {
		t.Errorf("resources: %+v", r)
	}
	if c.Annotations[OCINoteKey+"landlock"] == "" || c.Annotations[OCINoteKey+"fds.stdin"] == "" ||
		c.Annotations[OCINoteKey+"namespaces.init"] == "" || c.Annotations[OCINoteKey+"fds.stdout"] != "" {
		t.Errorf("annotations: %v", c.Annotations)
	}
}

// The host's root: the bundle's empty rootfs with "/" bound over it first,
// recursively read-only; the root's /dev bound before it for runc to see;
// binds carry their own "rro"; what lies inside daemonbox's mounts stays a
// readonly path.
func TestOCIMountsHostRoot(t *testing.T) {
	s, p := testPlan()
	c, err := OCI(s, p)
	if err != nil {
		t.Fatal(err)
	}
	if c.Root.Path != OCIHostRoot || !c.Root.Readonly {
		t.Errorf("root: %+v", c.Root)
	}
	var got []string
	for _, m := range c.Mounts {
		got = append(got, m.Destination+" "+m.Type+" "+m.Source+" "+strings.Join(m.Options, ","))
	}
	want := []string{
		"/dev bind /dev rbind",
		"/ bind / rbind,rro",
		"/data bind /var/lib/web rbind,nosuid,nodev,rro",
		"/tmp tmpfs tmpfs nosuid,nodev,mode=1777",
		"/proc proc proc nosuid,noexec,nodev",
	}
	if !slices.Equal(got, want) {
		t.Errorf("mounts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A writable host root is still bound over rootfs; a private /dev is
// daemonbox's, filled by the runtime and then made read-only.
func TestOCIMountsWritableRootPrivateDev(t *testing.T) {
	s, p := testPlan()
	p.Mounts = []sandbox.Mount{{Kind: sandbox.MountDev, Target: "/dev"}}
	c, err := OCI(s, p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range c.Mounts {
		got = append(got, m.Destination+" "+m.Type)
	}
	if !slices.Equal(got, []string{"/ bind", "/dev tmpfs", "/dev/pts devpts", "/dev/shm tmpfs"}) || c.Root.Readonly {
		t.Errorf("mounts %v, root %+v", got, c.Root)
	}
	if !slices.Equal(c.Linux.ReadonlyPaths, []string{"/dev"}) {
		t.Errorf("readonly %v", c.Linux.ReadonlyPaths)
	}
}

// A user namespace carries its maps.
func TestOCIUserNamespace(t *testing.T) {
	s, p := testPlan()
	p.UserNS = true
	p.UIDMap = []spec.IDMap{{Inside: 0, Outside: 100000, Count: 65536}}
	p.GIDMap = []spec.IDMap{{Inside: 0, Outside: 100000, Count: 65536}}
	c, err := OCI(s, p)
	if err != nil {
		t.Fatal(err)
	}
	want := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	if !slices.Equal(c.Linux.UIDMappings, want) || !slices.Equal(c.Linux.GIDMappings, want) ||
		c.Linux.Namespaces[len(c.Linux.Namespaces)-1].Type != specs.UserNamespace {
		t.Errorf("maps %v %v, namespaces %v", c.Linux.UIDMappings, c.Linux.GIDMappings, c.Linux.Namespaces)
	}
}

// No capability is an empty capabilities object, never an absent one (a
// runtime given none leaves root's), and the JSON is the runtime-spec's.
func TestOCIJSONEmptyCaps(t *testing.T) {
	s, p := testPlan()
	p.Caps = caps.Want{}
	c, err := OCI(s, p)
	if err != nil {
		t.Fatal(err)
	}
	data, err := OCIJSON(c)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	capsJSON, ok := back["process"].(map[string]any)["capabilities"].(map[string]any)
	if !ok || len(capsJSON) != 0 {
		t.Errorf("capabilities: %v", capsJSON)
	}
	if back["ociVersion"] != OCIVersion {
		t.Errorf("ociVersion %v", back["ociVersion"])
	}
}

// filesystem.writable is a bind of the root's own path, with its own
// flags; [directories] are noted, since OCI cannot make them.
func TestOCIWritableAndDirectories(t *testing.T) {
	s, p := testPlan()
	p.Mounts = []sandbox.Mount{{Kind: sandbox.MountReadonly, Target: "/"},
		{Kind: sandbox.MountBind, Source: "/var/lib/web", Target: "/var/lib/web", InRoot: true}}
	p.Directories = []sandbox.Directory{{Kind: "state", Base: "/var/lib", Name: "web", Mode: 0o750, UID: 33, GID: 33}}
	s.Process.EnvFile = "/etc/default/web"
	c, err := OCI(s, p)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range c.Mounts {
		if m.Destination == "/var/lib/web" {
			found = m.Source == "/var/lib/web" && slices.Equal(m.Options, []string{"rbind", "rw"})
		}
	}
	if !found {
		t.Errorf("no writable bind of /var/lib/web in %+v", c.Mounts)
	}
	n := ociNotCarried(s, p)
	if !strings.Contains(n["directories"], "/var/lib/web (33:33, mode 0750)") || !strings.Contains(n["process.env_file"], "read when exported") {
		t.Errorf("notes %q", n)
	}
}

// A read-only chroot with nothing mounted inside is read-only through
// root.readonly alone, with no mount on "/" (which crun before 1.22 cannot
// make), and says so; one with a mount inside keeps the recursive
// read-only bind of itself.
func TestOCIReadonlyChroot(t *testing.T) {
	s, p := testPlan()
	root := t.TempDir()
	p.Root = root
	p.Mounts = []sandbox.Mount{{Kind: sandbox.MountReadonly, Target: "/"}, {Kind: sandbox.MountDev, Target: "/dev"}}
	c, err := OCI(s, p)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Root.Readonly || c.Root.Path != root || slices.ContainsFunc(c.Mounts, func(m specs.Mount) bool { return m.Destination == "/" }) {
		t.Errorf("root %+v, mounts %+v", c.Root, c.Mounts)
	}
	if !strings.Contains(c.Annotations[OCINoteKey+"filesystem.readonly"], "stays writable") {
		t.Errorf("annotations: %v", c.Annotations)
	}
	if unix.Mount("tmpfs", root, "tmpfs", 0, "") != nil {
		return // not root: the case with a mount inside is the VM's and the host's kernel tests'
	}
	t.Cleanup(func() { unix.Unmount(root, unix.MNT_DETACH) })
	sub := filepath.Join(root, "sub")
	os.Mkdir(sub, 0o755)
	if err := unix.Mount("tmpfs", sub, "tmpfs", 0, ""); err != nil {
		t.Fatal(err)
	}
	c, err = OCI(s, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Mounts) == 0 || c.Mounts[0].Destination != "/" || !slices.Contains(c.Mounts[0].Options, "rro") ||
		c.Annotations[OCINoteKey+"filesystem.readonly"] != "" {
		t.Errorf("with a mount inside: mounts %+v, annotations %v", c.Mounts, c.Annotations)
	}
}

func TestMountedBelow(t *testing.T) {
	info := "22 1 0:20 / / rw - ext4 /dev/vda rw\n" +
		"30 22 0:30 / /srv/jail\\040one rw - tmpfs tmpfs rw\n" +
		"31 30 0:31 / /srv/jail\\040one/proc rw - proc proc rw\n" +
		"32 22 0:32 / /srv/jailer/x rw - tmpfs tmpfs rw\n"
	for dir, want := range map[string]bool{
		"/srv/jail one": true, "/srv/jail one/": true, "/srv/jail": false, "/srv/jail one/proc": false,
		"/srv": true, "/srv/jailer": true, "/srv/jailer/x": false, "/nowhere": false,
	} {
		if got := mountedBelow(info, dir); got != want {
			t.Errorf("mountedBelow(%q) = %v, want %v", dir, got, want)
		}
	}
}

// A read-only chroot without a private /dev: the /dev the config mounts
// for the runtime (a bind of the root's own, or a tmpfs where that is
// empty) is not under root.readonly's one mount, so it is a read-only
// path, made once the runtime has filled it, as daemonbox's read-only root
// covers the root's /dev.
func TestOCIReadonlyChrootOwnDev(t *testing.T) {
	for _, withNull := range []bool{true, false} {
		s, p := testPlan()
		root := t.TempDir()
		os.Mkdir(filepath.Join(root, "dev"), 0o755)
		if withNull {
			os.WriteFile(filepath.Join(root, "dev", "null"), nil, 0o666)
		}
		p.Root = root
		p.Mounts = []sandbox.Mount{{Kind: sandbox.MountReadonly, Target: "/"}}
		c, err := OCI(s, p)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Mounts) == 0 || c.Mounts[0].Destination != "/dev" || !slices.Contains(c.Linux.ReadonlyPaths, "/dev") {
			t.Errorf("/dev (root's own: %v): mounts %+v, readonlyPaths %q", withNull, c.Mounts, c.Linux.ReadonlyPaths)
		}
		if notes := OCINotes(c); notes["filesystem.readonly"] == "" || notes["landlock"] == "" || notes["name"] != "" {
			t.Errorf("notes %v", notes)
		}
	}
}

// A bind whose source lies under a read-only path of a chroot's own files
// is read-only under daemonbox, which clones it through that mount: the
// config says "rro". The host's root does not reach its binds.
func TestOCIBindUnderReadonlyChroot(t *testing.T) {
	s, p := testPlan()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc", "app"), 0o755)
	os.Mkdir(filepath.Join(root, "etcetera"), 0o755)
	p.Root = root
	p.Mounts = []sandbox.Mount{{Kind: sandbox.MountReadonly, Target: "/etc"}, {Kind: sandbox.MountDev, Target: "/dev"},
		{Kind: sandbox.MountBind, Source: root + "/etc/app", Target: "/mnt"},
		{Kind: sandbox.MountBind, Source: root + "/etcetera", Target: "/srv"}}
	for _, tc := range []struct {
		root string
		want map[string]bool
	}{{root, map[string]bool{"/mnt": true, "/srv": false}}, {"/", map[string]bool{"/mnt": false, "/srv": false}}} {
		p.Root = tc.root
		c, err := OCI(s, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range c.Mounts {
			if want, ok := tc.want[m.Destination]; ok && slices.Contains(m.Options, "rro") != want {
				t.Errorf("root %s: %s %v, want rro %v", tc.root, m.Destination, m.Options, want)
			}
		}
	}
}

// chrootPlan is a read-only chroot in a fresh directory with the given
// directories, and mounts after the read-only root.
func chrootPlan(t *testing.T, dirs []string, mounts ...sandbox.Mount) (*spec.Spec, *sandbox.Plan, string) {
	s, p := testPlan()
	root := t.TempDir()
	for _, d := range dirs {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	p.Root = root
	p.Mounts = append([]sandbox.Mount{{Kind: sandbox.MountReadonly, Target: "/"}}, mounts...)
	return s, p, root
}

func mountOn(c *specs.Spec, dest string) (specs.Mount, bool) {
	for _, m := range c.Mounts {
		if m.Destination == dest {
			return m, true
		}
	}
	return specs.Mount{}, false
}

// Paths of the root's own files are mount sources resolved inside the
// root, as daemonbox resolves them: a runtime resolves a source on the
// host, where the root's var/run -> /run is the host's /run.
func TestOCISourcesResolvedInRoot(t *testing.T) {
	s, p, root := chrootPlan(t, []string{"run", "var", "dev"},
		sandbox.Mount{Kind: sandbox.MountDev, Target: "/dev"},
		sandbox.Mount{Kind: sandbox.MountBind, Source: "", Target: "/var/run", InRoot: true})
	os.Symlink("/run", filepath.Join(root, "var", "run"))
	p.Mounts[2].Source = filepath.Join(root, "var", "run")
	c, err := OCI(s, p)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := mountOn(c, "/var/run"); !ok || m.Source != filepath.Join(root, "run") {
		t.Errorf("writable /var/run: %+v, want its source %s/run", m, root)
	}
	p.Mounts = []sandbox.Mount{{Kind: sandbox.MountReadonly, Target: "/var/run"}}
	if c, err = OCI(s, p); err != nil {
		t.Fatal(err)
	}
	if m, ok := mountOn(c, "/var/run"); !ok || m.Source != filepath.Join(root, "run") {
		t.Errorf("read-only /var/run: %+v, want its source %s/run", m, root)
	}
	os.Remove(filepath.Join(root, "run"))
	if _, err := OCI(s, p); err == nil || !strings.Contains(err.Error(), "does not lead to a file inside the root") {
		t.Errorf("a path that leads out of the root: %v", err)
	}
}

// A bind that holds the root in its source, or reaches into it through a
// symlink, is read-only, as daemonbox clones it through the read-only
// root: the root keeps its recursive read-only bind on "/" and the other
// gets "rro".
func TestOCIBindsAroundReadonlyChroot(t *testing.T) {
	s, p, root := chrootPlan(t, []string{"etc", "dev"}, sandbox.Mount{Kind: sandbox.MountDev, Target: "/dev"})
	link := filepath.Join(t.TempDir(), "etc")
	os.Symlink(filepath.Join(root, "etc"), link)
	p.Mounts = append(p.Mounts, sandbox.Mount{Kind: sandbox.MountBind, Source: filepath.Dir(root), Target: "/mnt"},
		sandbox.Mount{Kind: sandbox.MountBind, Source: link, Target: "/srv"})
	c, err := OCI(s, p)
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := mountOn(c, "/"); !ok || !slices.Contains(m.Options, "rro") {
		t.Errorf("root under a bind of its parent: / %+v", m)
	}
	if m, _ := mountOn(c, "/srv"); !slices.Contains(m.Options, "rro") {
		t.Errorf("bind through a symlink into the root: %+v", m)
	}
}

// The spec's own mount on /dev is left as the spec says; and a chroot
// without a PID namespace gets one, not the host's /proc.
func TestOCIOwnDevAndPIDNamespace(t *testing.T) {
	s, p, _ := chrootPlan(t, []string{"dev"}, sandbox.Mount{Kind: sandbox.MountTmpfs, Target: "/dev"})
	p.PIDNS = false
	c, err := OCI(s, p)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(c.Linux.ReadonlyPaths, "/dev") {
		t.Errorf("the spec's tmpfs on /dev made read-only: %q", c.Linux.ReadonlyPaths)
	}
	if !slices.ContainsFunc(c.Linux.Namespaces, func(n specs.LinuxNamespace) bool { return n.Type == specs.PIDNamespace }) {
		t.Errorf("no PID namespace for the /proc the config mounts: %v", c.Linux.Namespaces)
	}
	if _, ok := mountOn(c, "/proc"); !ok || !strings.Contains(ociNotCarried(s, p)["namespaces.pid"], "PID 1") {
		t.Errorf("/proc or its note missing")
	}
}

// A writable path that leads, through a symlink of the root's, below a
// mount the config makes before it would be taken through that mount by a
// runtime, which resolves a source on the host: the export refuses it.
func TestOCIWritableThroughMount(t *testing.T) {
	s, p, root := chrootPlan(t, []string{"mnt/x/etc", "dev"},
		sandbox.Mount{Kind: sandbox.MountDev, Target: "/dev"},
		sandbox.Mount{Kind: sandbox.MountBind, Source: t.TempDir(), Target: "/mnt"},
		sandbox.Mount{Kind: sandbox.MountBind, Target: "/data/x/etc", InRoot: true})
	os.Symlink("/mnt", filepath.Join(root, "data"))
	_, err := OCI(s, p)
	if err == nil || !strings.Contains(err.Error(), "below the config's mount on /mnt") {
		t.Errorf("a writable path through the /mnt bind: %v", err)
	}
	// The root's own /dev, bound for the runtime, and left writable: a
	// bind of the same files, which does not count.
	os.WriteFile(filepath.Join(root, "dev", "null"), nil, 0o666)
	p.Mounts = []sandbox.Mount{p.Mounts[0], {Kind: sandbox.MountBind, Target: "/dev", InRoot: true}}
	if _, err := OCI(s, p); err != nil {
		t.Errorf("writable /dev over the root's own /dev bind: %v", err)
	}
}

// The export makes the mount points of the /proc and /dev it adds for the
// runtime, inside the root, as it makes the plan's.
func TestOCIMountPoints(t *testing.T) {
	_, p, root := chrootPlan(t, nil)
	p.PIDNS = false
	if err := OCIMountPoints(p); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"proc", "dev"} {
		if fi, err := os.Stat(filepath.Join(root, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s: %v", d, err)
		}
	}
}
