package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGetcwd covers a short path and one longer than getcwd's first buffer.
// It changes the test process's directory, so it is not parallel.
func TestGetcwd(t *testing.T) {
	orig, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(orig) })
	short := t.TempDir()
	long := filepath.Join(short, strings.Repeat("d", 200), strings.Repeat("e", 200))
	if err := os.MkdirAll(long, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{short, long} {
		if err := os.Chdir(dir); err != nil {
			t.Fatal(err)
		}
		want, _ := os.Getwd()
		got, err := getcwd()
		if err != nil || got != want {
			t.Errorf("getcwd() in %d-byte path = %q, %v; want %q", len(want), got, err, want)
		}
	}
}
