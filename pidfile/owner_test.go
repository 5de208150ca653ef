package pidfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestOwnerIsTheLockHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.pid")
	if _, err := Owner(path, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no file: %v", err)
	}
	f, err := Claim(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []func() error{func() error { return nil }, func() error { return f.Write(77) }, f.Clear} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
		if pid, err := Owner(path, nil); err != nil || pid != os.Getpid() {
			t.Errorf("owner %d, %v; want %d", pid, err, os.Getpid())
		}
	}
	if st, err := Read(path, nil); err != nil || st != (State{Running: true}) {
		t.Errorf("after Clear: %+v %v", st, err)
	}
	f.Remove()
	os.WriteFile(path, []byte("77\n"), 0o644) // stale: nobody holds it
	if _, err := Owner(path, nil); !errors.Is(err, ErrNotRunning) {
		t.Errorf("stale file: %v", err)
	}
}
