package pidfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

func TestClaimWriteRemove(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.pid")
	f, err := Claim(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := Read(path, nil); err != nil || st != (State{Running: true}) {
		t.Fatalf("while starting: %+v %v", st, err)
	}
	if err := f.Write(1234); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); string(data) != "1234\n" {
		t.Errorf("content %q", data)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != Mode {
		t.Errorf("mode %v", fi.Mode())
	}
	if st, err := Read(path, nil); err != nil || st != (State{Running: true, PID: 1234}) {
		t.Errorf("running: %+v %v", st, err)
	}
	if _, err := Claim(path, nil); !errors.Is(err, ErrRunning) || !strings.Contains(err.Error(), "pid 1234") {
		t.Errorf("second claim: %v", err)
	}
	if err := f.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after remove: %v", err)
	}
	leftovers, _ := os.ReadDir(filepath.Dir(path))
	if len(leftovers) != 0 {
		t.Errorf("left behind: %v", leftovers)
	}
}

// The mode is 0644 whatever the umask.
func TestModeDespiteUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "d.pid")
	f, err := Claim(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != Mode {
		t.Errorf("mode %v", fi.Mode())
	}
}

// A pidfile nobody holds is stale: it is replaced, and reads as not running.
func TestStaleIsReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.pid")
	if err := os.WriteFile(path, []byte("999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, err := Read(path, nil); err != nil || st != (State{PID: 999}) {
		t.Errorf("stale: %+v %v", st, err)
	}
	f, err := Claim(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	if st, _ := Read(path, nil); st != (State{Running: true}) {
		t.Errorf("after the claim: %+v", st)
	}
}

// security.md P23: whatever hostile thing is at the path is refused, left as
// it was, and nothing hangs.
func TestHostilePaths(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		what, want string
		plant      func(string) error
	}{
		{"symlink", "symbolic link", func(p string) error { return os.Symlink(victim, p) }},
		{"hard link", "2 hard links", func(p string) error { return os.Link(victim, p) }},
		{"FIFO", "not a regular file", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"directory", "not a regular file", func(p string) error { return os.Mkdir(p, 0o755) }},
	}
	for _, c := range cases {
		path := filepath.Join(dir, "d.pid")
		if err := c.plant(path); err != nil {
			t.Fatal(err)
		}
		before, _ := os.Lstat(path)
		_, err := Claim(path, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: claim gave %v", c.what, err)
		}
		if _, err := Read(path, nil); err == nil {
			t.Errorf("%s: read gave no error", c.what)
		}
		after, _ := os.Lstat(path)
		if !os.SameFile(before, after) || after.Mode() != before.Mode() {
			t.Errorf("%s: the path changed", c.what)
		}
		os.Remove(path)
	}
	if data, _ := os.ReadFile(victim); string(data) != "secret\n" {
		t.Errorf("victim now %q", data)
	}
}

// Of many simultaneous claims, on a free path or a stale file, exactly one
// wins and every other is told the daemon runs.
func TestConcurrentClaims(t *testing.T) {
	for _, stale := range []bool{false, true} {
		for round := range 20 {
			path := filepath.Join(t.TempDir(), "d.pid")
			if stale {
				os.WriteFile(path, []byte("999\n"), 0o644)
			}
			var wg sync.WaitGroup
			results := make(chan *File, 16)
			errs := make(chan error, 16)
			for range 16 {
				wg.Go(func() {
					f, err := Claim(path, nil)
					if err != nil {
						errs <- err
						return
					}
					results <- f
				})
			}
			wg.Wait()
			close(results)
			close(errs)
			if len(results) != 1 {
				t.Fatalf("stale %v, round %d: %d claims won", stale, round, len(results))
			}
			for err := range errs {
				if !errors.Is(err, ErrRunning) {
					t.Errorf("stale %v, round %d: %v", stale, round, err)
				}
			}
			(<-results).Remove()
		}
	}
}

// Readers racing a supervisor that rewrites its pid always see it running,
// with a whole pid, and never make its claim fail.
func TestReadsDuringWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.pid")
	f, err := Claim(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Remove()
	if err := f.Write(1); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			st, err := Read(path, nil)
			if err != nil || !st.Running || st.PID < 1 {
				t.Errorf("read %+v %v", st, err)
				return
			}
		}
	})
	for pid := 2; pid < 300; pid++ {
		if err := f.Write(pid); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
}
