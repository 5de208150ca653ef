package sandbox

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDefaultPidfileDir(t *testing.T) {
	env := func(v string) func(string) (string, bool) {
		return func(string) (string, bool) { return v, v != "" }
	}
	cases := []struct {
		euid uint32
		xdg  string
		want string
	}{
		{0, "/run/user/0", "/run/daemonbox"},
		{1000, "/run/user/1000", "/run/user/1000/daemonbox"},
		{1000, "", "/run/daemonbox"},
		{1000, "relative", "/run/daemonbox"},
	}
	for _, c := range cases {
		if got := defaultPidfileDir(c.euid, env(c.xdg)); got != c.want {
			t.Errorf("euid %d, XDG_RUNTIME_DIR %q: %q, want %q", c.euid, c.xdg, got, c.want)
		}
	}
}

// The control commands find the pidfile where start put it.
func TestControlFindsDefaultPidfile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "web.toml")
	os.WriteFile(file, []byte("[process]\ncommand = [\"/bin/true\"]\n"), 0o644)
	p, err := LoadControl(file)
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(defaultPidfileDir(uint32(os.Geteuid()), os.LookupEnv), "web.pid")
	if got := p.PidfilePath(); got != want {
		t.Errorf("control looks at %q, start writes %q", got, want)
	}
}
