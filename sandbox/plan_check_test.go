package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/spec"
)

// What check must refuse because a launch step would fail on it, each at
// its key with the fix.
func TestPlanCheckCommandAndBinds(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(filepath.Join(dir, "run"), []byte("#!/bin/sh\n"), 0o755))
	must(t, os.WriteFile(filepath.Join(dir, "data"), []byte("x"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "ownerx"), []byte("x"), 0o744))
	must(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	cmd := func(c string) string { return "[process]\ncommand = [\"" + c + "\"]\n" }
	nobody := "[user]\nuser = \"nobody\"\n"
	cases := []struct{ doc, want string }{
		{cmd("/no/such/daemon"), `t.toml:2:12: process.command[0]: /no/such/daemon does not exist on the host, so exec would fail with ENOENT; install it there`},
		{cmd(dir), "is a directory, not a regular file"},
		{cmd(dir + "/data"), "is not executable by the daemon's uid 0, gid 0 and groups [] (mode 0644, owner 0:0)"},
		{cmd(dir+"/ownerx") + nobody, "is not executable by the daemon's uid 65534"},
		{cmd(dir+"/run") + "[filesystem]\ntmpfs = [\"" + dir + "\"]\n", "is hidden by a tmpfs mount at " + dir},
		{cmd("/opt/app/gone") + "[[filesystem.bind]]\nsource = \"" + dir + "\"\ntarget = \"/opt/app\"\n", "/opt/app/gone does not exist through the bind of " + dir + " at /opt/app"},
		{cmd("/bin/true") + "[[filesystem.bind]]\nsource = \"/var/lib/no-such\"\ntarget = \"/srv\"\n", `t.toml:4:10: filesystem.bind[0].source: /var/lib/no-such: no such file or directory, so the mounts step would fail; create it, or remove the bind`},
		{cmd("/bin/true") + "[[filesystem.bind]]\nsource = \"" + dir + "\"\ntarget = \"/etc/passwd\"\n", "filesystem.bind[0].target: /etc/passwd exists on the host but is not a directory like its source"},
		{cmd("/bin/true") + "[filesystem]\nreadonly = [\"/\"]\nwritable = [\"/var/lib/no-such\"]\n", `t.toml:5:13: filesystem.writable[0]: /var/lib/no-such on the host: no such file or directory, so it cannot be left writable`},
		{cmd("/bin/true") + "[filesystem]\nwritable = [\"/\"]\n", `filesystem.writable[0]: "/" is the whole root`},
	}
	for _, c := range cases {
		_, err := planDoc(t, rootHost(), c.doc)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v\nwant %q", c.doc, err, c.want)
		}
	}
	ok := []string{
		cmd(dir + "/run"),
		cmd(dir+"/ownerx") + nobody + "[capabilities]\nkeep = [\"CAP_DAC_OVERRIDE\"]\n",
		cmd("/opt/app/run") + "[[filesystem.bind]]\nsource = \"" + dir + "\"\ntarget = \"/opt/app\"\n",
		cmd("/usr/bin/true") + "[filesystem]\nreadonly = [\"/\"]\nwritable = [\"" + dir + "\"]\n",
		cmd("/bin/true") + "[filesystem]\nroot = \"/usr\"\n", // /usr/bin/true, found inside the root
	}
	for _, doc := range ok {
		if _, err := planDoc(t, rootHost(), doc); err != nil {
			t.Errorf("%q: %v", doc, err)
		}
	}
}

func TestPlanCheckRootlessPidfile(t *testing.T) {
	h := rootHost()
	h.Euid, h.Egid = 1000, 1000
	p, err := plan(t, h, "[namespaces]\nuser = true\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "start would put the pidfile in /run/daemonbox/t.pid (uid 1000 has no XDG_RUNTIME_DIR"
	if len(p.StartErrs) != 1 || !strings.Contains(p.StartErrs[0].Error(), want) || !strings.Contains(p.StartErrs[0].Error(), "set XDG_RUNTIME_DIR") {
		t.Errorf("start errors %v, want %q", p.StartErrs, want)
	}
	if _, err := plan(t, h, "[namespaces]\nuser = true\n[daemon]\ndetach = true\n"); err == nil || !strings.Contains(err.Error(), "t.toml:6:10: daemon.detach: "+want) {
		t.Errorf("detach: got %v", err)
	}
	for _, doc := range []string{"[namespaces]\nuser = true\n[daemon]\npidfile = \"/run/t.pid\"\n"} {
		if p, err := plan(t, h, doc); err != nil || len(p.StartErrs) != 0 {
			t.Errorf("%q: %v %v", doc, err, p)
		}
	}
	h.LookupEnv = func(k string) (string, bool) { return "/run/user/1000", k == "XDG_RUNTIME_DIR" }
	if p, err := plan(t, h, "[namespaces]\nuser = true\n"); err != nil || len(p.StartErrs) != 0 {
		t.Errorf("with XDG_RUNTIME_DIR: %v %v", err, p.StartErrs)
	}
}

func planDoc(t *testing.T, h *Host, doc string) (*Plan, error) {
	t.Helper()
	s, err := spec.Parse("t.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return NewPlan(s, h)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
