package sandbox

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/spec"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

func abiHost(abi int) *Host {
	h := rootHost()
	h.Landlock = func() int { return abi }
	return h
}

// mode = "required" is refused at validation, before any side effect, on a
// kernel without what the rules need; best-effort is not.
func TestLandlockRequiredRefusedOnOldKernel(t *testing.T) {
	cases := []struct {
		abi  int
		doc  string
		want string
	}{
		{0, "read = [\"/usr\"]\n", "filesystem needs ABI 1, truncate needs ABI 3"},
		{1, "write = [\"/tmp\"]\n", "refer needs ABI 2, truncate needs ABI 3"},
		{3, "bind_tcp = [80]\nconnect_tcp = []\n", "this kernel has Landlock ABI 3, and bind_tcp needs ABI 4, connect_tcp needs ABI 4"},
		{3, "read = [\"/usr\"]\n", ""},                 // ioctl_dev (ABI 5) is reported, not required
		{4, "bind_tcp = [80]\n", ""},                   // TCP arrives with ABI 4
		{7, "write = [\"/tmp\"]\nbind_tcp = []\n", ""}, // this machine
	}
	for _, c := range cases {
		for _, mode := range []string{"required", "best-effort"} {
			doc := "[landlock]\nexecute = [\"/bin\", \"/usr/bin\"]\nmode = \"" + mode + "\"\n" + c.doc
			_, err := plan(t, abiHost(c.abi), doc)
			want := c.want
			if mode == "best-effort" {
				want = ""
			}
			switch {
			case want == "" && err != nil:
				t.Errorf("ABI %d, %q: %v", c.abi, doc, err)
			case want != "" && (err == nil || !strings.Contains(err.Error(), "landlock.mode: \"required\", but ") || !strings.Contains(err.Error(), want)):
				t.Errorf("ABI %d, %q:\n got %v\nwant landlock.mode ... %s", c.abi, doc, err, want)
			}
		}
	}
}

// The launch step refuses the same before it restricts anything or execs,
// should the kernel it runs on differ from the one the plan was made on.
func TestLandlockStepRefusesBeforeExec(t *testing.T) {
	saved := landlockABI
	defer func() { landlockABI = saved }()
	landlockABI = func() int { return 3 }
	l := &launch{plan: &Launch{Landlock: &spec.Landlock{Set: true, Read: []string{"/usr"},
		BindTCP: []uint16{80}, RestrictBind: true, Mode: spec.LandlockRequired}}}
	err := AtStep("landlock", l.landlock())
	want := `step "landlock": mode "required": this kernel has Landlock ABI 3, and bind_tcp needs ABI 4`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// What each ABI handles: file rights up to ABI 5 within the kernel's, TCP
// only when its key is given, never resolve_unix.
func TestLandlockConfig(t *testing.T) {
	l := &spec.Landlock{Set: true, RestrictBind: true, Mode: spec.LandlockRequired}
	for _, c := range []struct {
		abi int
		fs  uint64
		net uint64
	}{
		{0, 0, 0},
		{1, 1<<13 - 1, 0},
		{3, 1<<15 - 1, 0},
		{4, 1<<15 - 1, ll.AccessNetBindTCP},
		{7, 1<<16 - 1, ll.AccessNetBindTCP},
		{11, 1<<16 - 1, ll.AccessNetBindTCP},
		{99, 1<<16 - 1, ll.AccessNetBindTCP}, // newer than go-landlock knows
	} {
		cfg := landlockConfig(l, c.abi)
		if uint64(cfg.HandledAccessFS) != c.fs || uint64(cfg.HandledAccessNet) != c.net {
			t.Errorf("ABI %d: handles fs %v net %v, want %#x %#x", c.abi, cfg.HandledAccessFS, cfg.HandledAccessNet, c.fs, c.net)
		}
	}
}

// A missing path fails a required launch, naming it, and is skipped in
// best-effort; a file (not a directory) gets file rights only.
func TestLandlockRules(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	missing := filepath.Join(dir, "missing")
	l := &spec.Landlock{Set: true, Read: []string{dir, file}, Write: []string{missing}, Mode: spec.LandlockRequired}
	cfg := landlockConfig(l, 7)
	_, err := landlockRules(l, cfg)
	if err == nil || AtStep("landlock", err).Error() != `step "landlock": landlock.write `+missing+`: no such file or directory` {
		t.Errorf("required with a missing path: %v", err)
	}
	l.Mode = spec.LandlockBestEffort
	rules, err := landlockRules(l, landlockConfig(l, 7))
	if err != nil || len(rules) != 2 {
		t.Fatalf("best-effort: %d rules, %v; want the two that exist", len(rules), err)
	}
	if got := fmt.Sprint(rules[1]); !strings.Contains(got, "{read_file}") {
		t.Errorf("a file's rule %s, want read_file only", got)
	}
}

// The command must be under execute, as written or as its symlinks lead.
func TestLandlockCommandCovered(t *testing.T) {
	cases := []struct{ execute, want string }{
		{`["/usr/bin"]`, ""}, // /bin/true is /usr/bin/true on a merged-/usr host, or written so
		{`["/bin", "/usr/bin"]`, ""},
		{`["/"]`, ""},
		{`["/usr/sbin"]`, "landlock.execute: does not cover the command /bin/true, so its exec would fail with EACCES"},
		{`[]`, "landlock.execute: does not cover the command /bin/true"},
	}
	if real, _ := filepath.EvalSymlinks("/bin/true"); real != "/usr/bin/true" {
		cases = cases[1:]
	}
	for _, c := range cases {
		_, err := plan(t, abiHost(7), "[landlock]\nexecute = "+c.execute+"\n")
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("execute = %s: %v, want %q", c.execute, err, c.want)
		}
	}
}

func TestBeneathAny(t *testing.T) {
	dirs := []string{"/usr/bin", "/opt/app"}
	for path, want := range map[string]bool{
		"/usr/bin/x": true, "/usr/bin": true, "/usr/binx": false, "/usr": false, "/opt/app/a/b": true, "/opt": false,
	} {
		if beneathAny(path, dirs) != want {
			t.Errorf("%s beneath %v: %v", path, dirs, !want)
		}
	}
}

// The interpreter of a script and of a dynamic ELF program, read inside
// the root.
func TestInterpreter(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "script"), []byte("#!/bin/sh -e\necho\n"), 0o755)
	os.Symlink("/script", filepath.Join(root, "link"))
	for path, want := range map[string]string{"/script": "/bin/sh", "/link": "/bin/sh", "/missing": ""} {
		if got := interpreter(root, path); got != want {
			t.Errorf("interpreter of %s: %q, want %q", path, got, want)
		}
	}
	for _, bin := range []string{"/bin/true", "/bin/sh", "/usr/bin/env", os.Args[0]} {
		if got, want := interpreter("/", bin), elfInterp(t, bin); got != want {
			t.Errorf("interpreter of %s: %q, debug/elf says %q", bin, got, want)
		}
	}
	p := &Plan{Launch: Launch{Root: root, Argv: []string{"/link"}, Landlock: &spec.Landlock{Execute: []string{"/script"}}}}
	if got := landlockInterpreter(p); got != "/bin/sh" {
		t.Errorf("uncovered interpreter: %q, want /bin/sh", got)
	}
	p.Landlock.Execute = append(p.Landlock.Execute, "/bin")
	if got := landlockInterpreter(p); got != "" {
		t.Errorf("covered interpreter reported: %q", got)
	}
}

func elfInterp(t *testing.T, path string) string {
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, _ := io.ReadAll(p.Open())
			return strings.TrimRight(string(b), "\x00")
		}
	}
	return ""
}
