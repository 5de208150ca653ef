package vm

import (
	"bytes"
	"debug/elf"
	"os"
	"strconv"
	"strings"
	"testing"
)

// cpioEntry is one entry read back from a newc archive.
type cpioEntry struct {
	mode       uint32
	rmaj, rmin uint32
	data       string
}

// readCpio parses a newc archive as the kernel does, checking the
// alignment of every field.
func readCpio(t *testing.T, b []byte) map[string]cpioEntry {
	t.Helper()
	out := map[string]cpioEntry{}
	field := func(h []byte, i int) uint32 {
		n, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
		if err != nil {
			t.Fatalf("field %d of %q: %v", i, h, err)
		}
		return uint32(n)
	}
	align := func(n int) int { return (n + 3) &^ 3 }
	for off := 0; ; {
		h := b[off : off+110]
		if string(h[:6]) != "070701" {
			t.Fatalf("offset %d: magic %q", off, h[:6])
		}
		size, namesize := int(field(h, 6)), int(field(h, 11))
		name := string(b[off+110 : off+110+namesize-1])
		off = align(off + 110 + namesize)
		if name == "TRAILER!!!" {
			if off != len(b) {
				t.Errorf("%d bytes after the trailer", len(b)-off)
			}
			return out
		}
		out[name] = cpioEntry{mode: field(h, 1), rmaj: field(h, 9), rmin: field(h, 10), data: string(b[off : off+size])}
		off = align(off + size)
	}
}

func TestImageWritesNewc(t *testing.T) {
	im := NewImage()
	im.Symlink("/bin", "usr/bin")
	im.Bytes("/bin/hello", []byte("hi!"), 0o755) // below the link: lands in /usr/bin
	im.Dir("/tmp", 0o1777)
	im.CharDev("/dev/console", 0o600, 5, 1)
	var buf bytes.Buffer
	if err := im.Write(&buf); err != nil {
		t.Fatal(err)
	}
	got := readCpio(t, buf.Bytes())
	want := map[string]cpioEntry{
		"bin":           {mode: modeSymlink | 0o777, data: "usr/bin"},
		"usr":           {mode: modeDir | 0o755},
		"usr/bin":       {mode: modeDir | 0o755},
		"usr/bin/hello": {mode: modeFile | 0o755, data: "hi!"},
		"tmp":           {mode: modeDir | 0o1777},
		"dev":           {mode: modeDir | 0o755},
		"dev/console":   {mode: modeChar | 0o600, rmaj: 5, rmin: 1},
	}
	if len(got) != len(want) {
		t.Errorf("entries %v, want %v", got, want)
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			t.Errorf("%s: %+v, want %+v", name, g, w)
		}
	}
}

// TestHostFilePacksLibraries: a dynamic host program comes with its
// interpreter and libraries, at their canonical paths.
func TestHostFilePacksLibraries(t *testing.T) {
	const prog = "/usr/bin/env"
	f, err := elf.Open(prog)
	if err != nil {
		t.Skipf("%s: %v", prog, err)
	}
	libs, _ := f.ImportedLibraries()
	f.Close()
	if len(libs) == 0 {
		t.Skipf("%s is static here", prog)
	}
	im := NewImage()
	mergedUsr(im)
	if err := im.HostFile(prog); err != nil {
		t.Fatal(err)
	}
	var names []string
	for p := range im.items {
		names = append(names, p)
	}
	all := strings.Join(names, " ")
	for _, want := range append(libs, "ld-linux-x86-64.so.2", "env") {
		if !strings.Contains(all, "/"+want) {
			t.Errorf("no %s among %s", want, all)
		}
	}
	if err := im.Write(&bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
}

func TestHostFileMissingLibraryFails(t *testing.T) {
	im := NewImage()
	if err := im.HostFile("/nonexistent/prog"); err == nil || !strings.Contains(err.Error(), "/nonexistent") {
		t.Errorf("err %v, want one naming the path", err)
	}
}

func TestEtcAddsTheTestUsers(t *testing.T) {
	im := NewImage()
	if err := (Guest{}).etc(im); err != nil {
		t.Fatal(err)
	}
	passwd := string(im.items["/etc/passwd"].data)
	for _, u := range baseUsers {
		if !hasEntry(passwd, u.name) {
			t.Errorf("no %s in the guest's passwd", u.name)
		}
	}
	host, _ := os.ReadFile("/etc/passwd")
	if !strings.HasPrefix(passwd, string(host)) {
		t.Error("the host's users are not kept as they are")
	}
}

func TestRunConfig(t *testing.T) {
	g := Guest{Args: []string{"-test.v=true", "-test.run=X Y"}, Env: []string{"A=1"}, Timeout: 90e9}
	got := string(g.runConfig())
	for _, want := range []string{"dir /src/vmtest\n", "timeout 1m30s\n", "env A=1\n",
		"env DAEMONBOX_VMTEST_PREBUILT=/opt/daemonbox-vmtest\n", "arg /src/vmtest/vmtest.test\narg -test.v=true\narg -test.run=X Y\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("run config lacks %q:\n%s", want, got)
		}
	}
}
