package pidfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The state file outlives the supervisor's claim, is replaced whole, and
// is removed by the claim or by path.
func TestStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.pid")
	f, err := Claim(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadState(path, nil); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("no state file yet: %v", err)
	}
	for _, text := range []string{"state=restarting\n", "state=failed\nrestarts=5\n"} {
		if err := f.WriteState(text); err != nil {
			t.Fatal(err)
		}
		if got, err := ReadState(path, nil); err != nil || got != text {
			t.Errorf("read %q %v, want %q", got, err, text)
		}
	}
	if fi, _ := os.Stat(path + StateSuffix); fi.Mode().Perm() != Mode {
		t.Errorf("mode %v", fi.Mode())
	}
	f.Remove()
	if _, err := ReadState(path, nil); err != nil {
		t.Errorf("the state file went with the pidfile: %v", err)
	}
	if err := RemoveStateAt(path, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadState(path, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after RemoveStateAt: %v", err)
	}
	if err := RemoveStateAt(path, nil); err != nil {
		t.Errorf("removing none: %v", err)
	}
}

// A symlink where the state file goes is not followed.
func TestStateFileSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.pid")
	os.WriteFile(filepath.Join(dir, "target"), []byte("state=failed\n"), 0o644)
	os.Symlink("target", path+StateSuffix)
	if _, err := ReadState(path, nil); err == nil {
		t.Error("a symlinked state file was read")
	}
}
