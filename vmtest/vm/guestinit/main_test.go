package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestReadConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "run")
	os.WriteFile(p, []byte("dir /src\ntimeout 2m\nenv A=1\narg /bin/t\narg -test.run=A B\n"), 0o644)
	cfg, err := readConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.dir != "/src" || cfg.timeout != 2*time.Minute || !slices.Equal(cfg.env, []string{"A=1"}) ||
		!slices.Equal(cfg.args, []string{"/bin/t", "-test.run=A B"}) {
		t.Errorf("config %+v", cfg)
	}
	os.WriteFile(p, []byte("dir /src\n"), 0o644)
	if _, err := readConfig(p); err == nil {
		t.Error("a config with nothing to run was taken")
	}
}

func TestParseStat(t *testing.T) {
	for _, c := range []struct {
		line  string
		state string
		ppid  int
		ok    bool
	}{
		{"42 (probe) Z 1 42 42 0 -1", "Z", 1, true},
		{"7 (a) b) (c) S 3 7 7", "S", 3, true},
		{"9 (x", "", 0, false},
		{"9 (x) R", "", 0, false},
	} {
		state, ppid, ok := parseStat(c.line)
		if state != c.state || ppid != c.ppid || ok != c.ok {
			t.Errorf("parseStat(%q) = %q, %d, %v; want %q, %d, %v", c.line, state, ppid, ok, c.state, c.ppid, c.ok)
		}
	}
}
