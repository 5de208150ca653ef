package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/caps"
	"golang.org/x/sys/unix"
)

func TestPlanDirectories(t *testing.T) {
	doc := "[user]\nuser = \"www-data\"\n[filesystem]\nreadonly = [\"/\"]\n[directories]\nstate = [\"web\", \"web/db\"]\nruntime = [\"web\"]\nlogs = [\"web\"]\ncache = [\"web\"]\nmode = 0o750\n"
	p, err := plan(t, rootHost(), doc)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, d := range p.Directories {
		paths = append(paths, d.Path())
		if d.Mode != 0o750 || d.UID != 33 || d.GID != 33 {
			t.Errorf("%s: mode %#o owner %d:%d, want 0750 33:33", d.Path(), d.Mode, d.UID, d.GID)
		}
	}
	if want := []string{"/run/web", "/var/lib/web", "/var/lib/web/db", "/var/cache/web", "/var/log/web"}; !slices.Equal(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
	for _, want := range []string{"RUNTIME_DIRECTORY=/run/web", "STATE_DIRECTORY=/var/lib/web:/var/lib/web/db", "CACHE_DIRECTORY=/var/cache/web", "LOGS_DIRECTORY=/var/log/web"} {
		if !slices.Contains(p.Env, want) {
			t.Errorf("env %q lacks %q", p.Env, want)
		}
	}
	if !slices.IsSorted(p.Env) {
		t.Errorf("env not sorted: %q", p.Env)
	}
	// Under a read-only "/", each is bound over itself, after the root is made read-only.
	var binds []string
	for _, m := range p.Mounts {
		if m.Kind == MountBind && m.InRoot {
			binds = append(binds, m.Target)
		}
	}
	if len(binds) != 5 || p.Mounts[0].Kind != MountReadonly || p.Mounts[0].Target != "/" {
		t.Errorf("in-root binds %q after %+v", binds, p.Mounts[0])
	}
	if !p.NeedsSupervisor() {
		t.Error("a runtime directory needs a supervisor to remove it")
	}
}

func TestPlanDirectoriesRootless(t *testing.T) {
	h := rootHost()
	h.Euid, h.Egid = 1000, 1000
	env := map[string]string{"HOME": "/home/u", "XDG_CACHE_HOME": "/home/u/c"}
	h.LookupEnv = func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	doc := "[namespaces]\nuser = true\n[daemon]\npidfile = \"/run/t.pid\"\n[directories]\nstate = [\"web\"]\nlogs = [\"web\"]\ncache = [\"web\"]\n"
	p, err := plan(t, h, doc)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, d := range p.Directories {
		paths = append(paths, d.Path())
		if d.UID != -1 {
			t.Errorf("%s: a launch without privilege chowns nothing (uid %d)", d.Path(), d.UID)
		}
	}
	if want := []string{"/home/u/.local/state/web", "/home/u/c/web", "/home/u/.local/state/log/web"}; !slices.Equal(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
	_, err = plan(t, h, doc+"runtime = [\"web\"]\n")
	if err == nil || !strings.Contains(err.Error(), "directories.runtime: uid 1000 has no XDG_RUNTIME_DIR") {
		t.Errorf("runtime without XDG_RUNTIME_DIR: %v", err)
	}
}

// MakeDirectories makes missing parents root's and the directory the
// daemon's, and refuses to follow a link planted in its place.
func TestMakeDirectories(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	base := t.TempDir()
	os.Chmod(base, 0o755)
	d := Directory{Kind: "state", Base: base, Name: "a/b", Mode: 0o750, UID: 33, GID: 34}
	p := &Plan{Lifecycle: Lifecycle{Directories: []Directory{d, {Kind: "runtime", Base: base, Name: "run", Mode: 0o700, UID: 33, GID: 34}}}}
	p.Rootless = true // no guard: the temporary base is under /tmp
	if err := MakeDirectories(p); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][3]uint32{"a": {0o755, 0, 0}, "a/b": {0o750, 33, 34}, "run": {0o700, 33, 34}} {
		var st unix.Stat_t
		if err := unix.Stat(filepath.Join(base, name), &st); err != nil || [3]uint32{st.Mode & 0o7777, st.Uid, st.Gid} != want {
			t.Errorf("%s: mode %#o owner %d:%d (%v), want %#o", name, st.Mode&0o7777, st.Uid, st.Gid, err, want)
		}
	}
	if err := RemoveRuntimeDirectories(p); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(base, "run")); !os.IsNotExist(err) || !fileThere(filepath.Join(base, "a/b")) {
		t.Errorf("runtime directory left (%v), or the state one removed", err)
	}
	os.RemoveAll(filepath.Join(base, "a/b"))
	os.Symlink("/etc", filepath.Join(base, "a/b"))
	if err := MakeDirectories(p); err == nil || !strings.Contains(err.Error(), "a/b") {
		t.Errorf("a link in the directory's place: %v", err)
	}
	var st unix.Stat_t
	if unix.Stat("/etc", &st); st.Uid != 0 {
		t.Fatal("followed the link and chowned /etc")
	}
}

func fileThere(p string) bool { _, err := os.Stat(p); return err == nil }

func TestPlanEnvFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "web")
	must(t, os.WriteFile(file, []byte("# web\nA=file\nB=\"two words\"\n"), 0o600))
	doc := "env = { A = \"spec\", C = \"spec\" }\nenv_file = \"" + file + "\"\n"
	h := rootHost()
	p, err := plan(t, h, doc) // uid 0 on the host root: no guard, so a file under /tmp will do
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A=file", "B=two words", "C=spec"}; !slices.Equal(p.Env, want) {
		t.Errorf("env %q, want %q", p.Env, want)
	}
	if p.EnvFile != file || !slices.Equal(p.EnvFileNames, []string{"A", "B"}) {
		t.Errorf("env file %q names %q, for explain", p.EnvFile, p.EnvFileNames)
	}
	must(t, os.WriteFile(file, []byte("A=1\n\nB\n"), 0o600))
	if _, err := plan(t, h, doc); err == nil || !strings.Contains(err.Error(), "t.toml:4:12: process.env_file: "+file+":3: \"B\" is not NAME=VALUE") {
		t.Errorf("got %v", err)
	}
	if _, err := plan(t, h, "env_file = \"/no/such/file\"\n"); err == nil || !strings.Contains(err.Error(), "process.env_file: ") || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("got %v", err)
	}
	// The file is opened through the log files' guard: a daemon of
	// another user must not be able to swap a directory on its way.
	must(t, os.WriteFile(file, []byte("A=1\n"), 0o600))
	if _, err := plan(t, h, doc+"[user]\nuser = \"nobody\"\n"); err == nil || !strings.Contains(err.Error(), "process.env_file: ") || !strings.Contains(err.Error(), "writable") {
		t.Errorf("an env file under /tmp for nobody: %v", err)
	}
}

// The base is checked as a log file's directory is, when the spec is read:
// a daemon that could change it could turn daemonbox's chown elsewhere.
func TestPlanDirectoriesGuarded(t *testing.T) {
	_, err := plan(t, rootHost(), "[filesystem]\nreadonly = [\"/\"]\n[directories]\nstate = [\"web\"]\n")
	if err == nil || !strings.Contains(err.Error(), "directories.state: /var/lib/web: the directory / is writable by the daemon") {
		t.Errorf("a uid-0 daemon that sees /: %v", err)
	}
}

// In a user namespace the owner is the daemon's host uid, through the maps.
func TestPlanDirectoriesMappedOwner(t *testing.T) {
	h := rootHost()
	h.Bounding = func() (caps.Set, error) { return h.Caps.Bounding, nil }
	doc := "[user]\nuser = 33\ngroup = 33\n[namespaces]\nuser = true\nuid_map = [{ inside = 0, outside = 100000, count = 65536 }]\ngid_map = [{ inside = 0, outside = 200000, count = 65536 }]\n[directories]\nstate = [\"web\"]\n"
	p, err := plan(t, h, doc)
	if err != nil {
		t.Fatal(err)
	}
	if d := p.Directories[0]; d.UID != 100033 || d.GID != 200033 {
		t.Errorf("owner %d:%d, want 100033:200033", d.UID, d.GID)
	}
}
