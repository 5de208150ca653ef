package hostpath

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// Without a guard the walk resolves symlinks as the kernel would: relative,
// absolute, through "..", and refuses a loop; the last component is never
// followed.
func TestWalkFollowsLinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	os.MkdirAll(filepath.Join(real, "sub"), 0o755)
	os.WriteFile(filepath.Join(real, "sub", "f"), []byte("x"), 0o644)
	os.Symlink("real/sub", filepath.Join(dir, "rel"))
	os.Symlink(real, filepath.Join(dir, "abs"))
	os.Symlink("../real/sub", filepath.Join(real, "up"))
	os.Symlink("loop", filepath.Join(dir, "loop"))
	os.Symlink(filepath.Join(real, "sub", "f"), filepath.Join(real, "sub", "last"))
	for _, p := range []string{"rel/f", "abs/sub/f", "abs/up/f", "real/./sub/../sub/f"} {
		fd, err := OpenFile(filepath.Join(dir, p), unix.O_RDONLY, 0, nil)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		unix.Close(fd)
	}
	if _, err := OpenDir(filepath.Join(dir, "loop"), nil); !errors.Is(err, unix.ELOOP) {
		t.Errorf("a symlink loop: %v, want ELOOP", err)
	}
	if _, err := OpenFile(filepath.Join(real, "sub", "last"), unix.O_RDONLY, 0, nil); !errors.Is(err, unix.ELOOP) {
		t.Errorf("a symlink as the last component: %v, want ELOOP", err)
	}
	if _, err := OpenDir(filepath.Join(real, "sub", "f"), nil); !errors.Is(err, unix.ENOTDIR) {
		t.Errorf("a file on the way: %v, want ENOTDIR", err)
	}
	if _, err := OpenDir("relative/path", nil); err == nil {
		t.Error("a relative path was accepted")
	}
}

// With a guard, a directory the user owns, may write as other or through a
// group, is refused, wherever it lies on the way.
func TestGuardRefusesWritableDirectories(t *testing.T) {
	cases := []struct {
		st   unix.Stat_t
		at   string
		want string
	}{
		{unix.Stat_t{Uid: 1000, Mode: unix.S_IFDIR | 0o555}, "/a", "its owner, uid 1000"},
		{unix.Stat_t{Uid: 100500, Mode: unix.S_IFDIR | 0o555}, "/a", "its owner, uid 100500"},
		{unix.Stat_t{Uid: 0, Mode: unix.S_IFDIR | 0o1777}, "/a", "mode 01777"},
		{unix.Stat_t{Uid: 0, Gid: 50, Mode: unix.S_IFDIR | 0o775}, "/a", "group 50, mode 0775"},
		{unix.Stat_t{Uid: 0, Gid: 51, Mode: unix.S_IFDIR | 0o775}, "/a", ""},
		{unix.Stat_t{Uid: 0, Gid: 50, Mode: unix.S_IFDIR | 0o755}, "/a", ""},
		{unix.Stat_t{Uid: 0, Mode: unix.S_IFDIR | 0o755}, "reach", "it keeps CAP_FOWNER"},
	}
	g := &Guard{UIDs: append(One(1000), Range{100000, 65536}), GIDs: One(1000, 50), Why: "it keeps CAP_FOWNER"}
	for _, c := range cases {
		if got := g.writable(&c.st, c.at == "reach"); got != c.want {
			t.Errorf("%+v at %s: %q, want %q", c.st, c.at, got, c.want)
		}
	}
	if (*Guard)(nil).writable(&cases[0].st, true) != "" {
		t.Error("no guard refused a directory")
	}
	// /tmp is everyone's to write.
	if fi, err := os.Stat("/tmp"); err != nil || fi.Mode().Perm()&0o002 == 0 {
		t.Skip("/tmp is not world-writable here")
	}
	_, err := OpenDir("/tmp/no/matter", &Guard{UIDs: One(4242)})
	var werr *WritableError
	if !errors.As(err, &werr) || werr.Dir != "/tmp" {
		t.Fatalf("a path under /tmp: %v, want a WritableError for /tmp", err)
	}
}

// Reach is known by what a directory is: a path into it through a symlink,
// or through ".." from elsewhere, is in reach as much as its own name.
func TestReachByIdentity(t *testing.T) {
	dir := t.TempDir()
	jail := filepath.Join(dir, "jail")
	os.MkdirAll(filepath.Join(jail, "log"), 0o755)
	os.MkdirAll(filepath.Join(dir, "other"), 0o755)
	os.Symlink(jail, filepath.Join(dir, "alias"))
	g := &Guard{Reach: []string{filepath.Join(dir, "alias")}}
	// The walk checks nothing else (no guard), so that the temporary
	// directory, everyone's to write, does not stop it.
	w := &walker{fd: -1, reach: g.reachIDs()}
	for _, c := range []struct {
		path string
		in   bool
	}{
		{filepath.Join(jail, "log"), true},
		{filepath.Join(dir, "alias", "log"), true},
		{filepath.Join(jail, "log", "..", "..", "other"), false},
		{filepath.Join(dir, "other"), false},
	} {
		w.path = c.path
		if err := w.all(split(c.path)); err != nil {
			t.Fatal(err)
		}
		if got := w.inReach >= 0; got != c.in {
			t.Errorf("%s: in reach %v, want %v", c.path, got, c.in)
		}
		if w.fd >= 0 {
			unix.Close(w.fd)
			w.fd = -1
		}
	}
}

func TestWithin(t *testing.T) {
	for _, c := range []struct {
		p, dir string
		want   bool
	}{
		{"/srv/jail", "/srv/jail", true}, {"/srv/jail/etc", "/srv/jail", true}, {"/srv/jailer", "/srv/jail", false},
		{"/srv", "/srv/jail", false}, {"/anything", "/", true}, {"/", "/", true},
	} {
		if got := Within(c.p, c.dir); got != c.want {
			t.Errorf("Within(%q, %q) = %v, want %v", c.p, c.dir, got, c.want)
		}
	}
}
