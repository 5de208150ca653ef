package vmtest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// P30: under [landlock], what the rules do not grant fails, also through a
// symlink, a hard link and a rename, and what they grant works; TCP binds
// and connects outside the listed ports fail. Each refusal is Landlock's:
// the same tries without [landlock] succeed (or, for a connect to a port no
// one listens on, are refused by the peer, not the kernel's rules). Root in
// place, root through PID 1 in a PID namespace (the daemon's own stage), and
// rootless through a user namespace.
func TestLandlock(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		// As root, a chroot alone execs in place; rootless, the user
		// namespace makes a stage.
		variants := []struct{ name, ns string }{{"chroot", ""}}
		if !m.rootless {
			variants = append(variants, struct{ name, ns string }{"pid namespace", "[namespaces]\npid = true\n"})
		}
		for _, v := range variants {
			t.Run(v.name, func(t *testing.T) { landlockTries(t, m, v.ns) })
		}
	})
}

func landlockTries(t *testing.T, m mode, ns string) {
	ports := newLandlockPorts(t)
	want := landlockWant(ports)
	ctl := landlockRun(t, m, ns, "", ports, want)
	got := landlockRun(t, m, ns, ports.table(), ports, want)
	for _, w := range want {
		if ctl[w.try] != w.without {
			t.Errorf("without [landlock]: try %s %s, want %s (the tries must show Landlock's refusals, not another's)", w.try, ctl[w.try], w.without)
		}
		if got[w.try] != w.with {
			t.Errorf("with [landlock]: try %s %s, want %s", w.try, got[w.try], w.with)
		}
	}
}

type landlockTry struct{ try, with, without string }

// landlockWant is each try, with its outcome under [landlock] and without.
// A hard link into write from outside fails with EXDEV, not EACCES: the one
// right it lacks is refer, for which Landlock answers EXDEV so that ln and
// mv fall back to copying (which read then refuses).
func landlockWant(p landlockPorts) []landlockTry {
	return []landlockTry{
		{"read=/ro/f", "ok", "ok"},
		{"list=/ro", "ok", "ok"},
		{"read=/rw/f", "ok", "ok"},
		{"write=/rw/f", "ok", "ok"},
		{"write=/rw/new", "ok", "ok"},
		{"mkdir=/rw/dir", "ok", "ok"},
		{"rename=/rw/a:/rw/sub/a", "ok", "ok"}, // between directories within write: refer is granted
		{"exec=/bin/probe", "ok", "ok"},
		{"read=/out/secret", "EACCES", "ok"},
		{"list=/out", "EACCES", "ok"},
		{"write=/ro/new", "EACCES", "ok"},
		{"write=/out/new", "EACCES", "ok"},
		{"mkdir=/out/dir", "EACCES", "ok"},
		{"truncate=/out/secret", "EACCES", "ok"},
		{"write=/rw/link", "EACCES", "ok"}, // a symlink in write to /out/secret
		{"exec=/out/probe", "EACCES", "ok"},
		{"exec=/ro/probe", "EACCES", "ok"}, // readable is not executable
		{"link=/rw/f:/out/hard", "EACCES", "ok"},
		{"link=/out/secret:/rw/hard", "EXDEV", "ok"},
		{"rename=/rw/b:/out/b", "EACCES", "ok"},
		{"rename=/out/c:/rw/c", "EACCES", "ok"},
		{"unlink=/out/d", "EACCES", "ok"},
		{fmt.Sprintf("bind=%d", p.bind), "ok", "ok"},
		{fmt.Sprintf("bind=%d", p.other), "EACCES", "ok"},
		{fmt.Sprintf("connect=%d", p.listen), "ok", "ok"},
		{fmt.Sprintf("connect=%d", p.other), "EACCES", "ECONNREFUSED"},
	}
}

// landlockRun runs the probe's tries in a fresh jail and returns each
// try's outcome.
func landlockRun(t *testing.T, m mode, ns, table string, ports landlockPorts, want []landlockTry) map[string]string {
	t.Helper()
	cmd := `"/bin/probe", "landlock"`
	for _, w := range want {
		cmd += fmt.Sprintf(", %q", w.try)
	}
	spec := fmt.Sprintf("[process]\ncommand = [%s]\n[user]\nuser = \"nobody\"\n[filesystem]\nroot = %q\n%s%s",
		cmd, landlockJail(t, m), ns, table)
	rep := m.launch(spec).ok(t)
	out := map[string]string{}
	for _, v := range rep["try"] {
		k, r, _ := strings.Cut(v, " ")
		out[k] = r
	}
	return out
}

// landlockJail is a root with /bin/probe, and /ro, /rw and /out, each
// holding files; these are the daemon's own, so that its permissions let
// every try through and only Landlock refuses.
func landlockJail(t *testing.T, m mode) string {
	t.Helper()
	root := jail(t, "bin", "ro", "rw/sub", "out")
	copyFile(t, probe, filepath.Join(root, "bin/probe"), 0o755)
	copyFile(t, probe, filepath.Join(root, "out/probe"), 0o755)
	copyFile(t, probe, filepath.Join(root, "ro/probe"), 0o755)
	for _, f := range []string{"ro/f", "rw/f", "rw/a", "rw/b", "out/secret", "out/c", "out/d"} {
		if err := os.WriteFile(filepath.Join(root, f), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("/out/secret", filepath.Join(root, "rw/link")); err != nil {
		t.Fatal(err)
	}
	uid, gid := 65534, 65534
	if m.rootless {
		uid, gid = int(rootlessUID), int(rootlessGID)
	}
	for _, d := range []string{"ro", "rw", "out"} {
		err := filepath.Walk(filepath.Join(root, d), func(path string, _ os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			return os.Lchown(path, uid, gid)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// landlockPorts are TCP ports on 127.0.0.1: bind is free and allowed,
// listen has the test's listener and is allowed to connect to, and other
// is free and in neither list.
type landlockPorts struct{ bind, listen, other int }

func newLandlockPorts(t *testing.T) landlockPorts {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return landlockPorts{bind: freePort(t), listen: ln.Addr().(*net.TCPAddr).Port, other: freePort(t)}
}

func (p landlockPorts) table() string {
	return fmt.Sprintf("[landlock]\nread = [\"/ro\"]\nwrite = [\"/rw\"]\nexecute = [\"/bin\"]\nbind_tcp = [%d]\nconnect_tcp = [%d]\n", p.bind, p.listen)
}

// freePort is a port no one listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// A rule's path that does not exist inside the root fails a required
// launch before exec, naming it; best-effort skips it, says so, and runs.
// A command execute does not cover is refused at validation.
func TestLandlockRefusals(t *testing.T) {
	need(t)
	base := fmt.Sprintf("[process]\ncommand = [\"/probe\", \"landlock\", \"read=/ro\"]\n[user]\nuser = \"nobody\"\n[filesystem]\nroot = %q\n", jail(t, "ro"))
	cases := []struct {
		name, table, want string
		code              int
	}{
		{"required, missing path", "[landlock]\nread = [\"/ro\", \"/nope\"]\nexecute = [\"/probe\"]\n",
			`daemonbox: step "landlock": landlock.read /nope: no such file or directory`, 125},
		{"best-effort, missing path", "[landlock]\nread = [\"/ro\", \"/nope\"]\nexecute = [\"/probe\"]\nmode = \"best-effort\"\n",
			`daemonbox: step "landlock": landlock.read /nope: no such file or directory (skipped: mode is best-effort)`, 0},
		{"command not covered", "[landlock]\nread = [\"/ro\"]\nexecute = [\"/ro\"]\n",
			"landlock.execute: does not cover the command /probe, so its exec would fail with EACCES", 125},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := launch{spec: base + c.table}.do(t)
			if r.code != c.code || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, c.code, c.want)
			}
			if ran := r.rep.has("end"); ran != (c.code == 0) {
				t.Errorf("the daemon ran: %v, want %v", ran, c.code == 0)
			}
		})
	}
}
