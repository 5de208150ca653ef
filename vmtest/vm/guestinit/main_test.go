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
