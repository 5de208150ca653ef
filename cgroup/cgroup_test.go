package cgroup

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestWeightConversions(t *testing.T) {
	for _, c := range []struct{ weight, shares uint64 }{{100, 1024}, {1, 10}, {10000, 102400}, {50, 512}} {
		if got := CPUShares(c.weight); got != c.shares {
			t.Errorf("CPUShares(%d) = %d, want %d", c.weight, got, c.shares)
		}
	}
	for _, c := range []struct {
		weight uint64
		blkio  uint16
	}{{100, 500}, {1, 10}, {10000, 1000}, {10, 50}} {
		if got := BlkioWeight(c.weight); got != c.blkio {
			t.Errorf("BlkioWeight(%d) = %d, want %d", c.weight, got, c.blkio)
		}
	}
}

func TestSwapOnV1NeedsMemory(t *testing.T) {
	s := uint64(1 << 20)
	if _, err := settings(Limits{MemorySwapMax: &s}, false); err == nil {
		t.Error("v1 swap without memory_max accepted")
	}
	set, err := settings(Limits{MemorySwapMax: &s, MemoryMax: &s}, false)
	if i := indexOf(set, "memory.memsw.limit_in_bytes"); err != nil || i < 0 || set[i].value != "2097152" {
		t.Errorf("v1 memory+swap = %+v, %v; want 2097152", set, err)
	}
	set, _ = settings(Limits{MemorySwapMax: &s}, true)
	if i := indexOf(set, "memory.swap.max"); i < 0 || set[i].value != "1048576" {
		t.Errorf("v2 memory.swap.max = %+v", set)
	}
}

// The files and values each version gets, in the order they are written.
func TestSettings(t *testing.T) {
	mem, pids, quota, weight := uint64(64<<20), int64(16), int64(50000), uint64(200)
	zero, noPids := uint64(0), int64(-1)
	l := Limits{MemoryMax: &mem, PidsMax: &pids, CPUQuota: &quota, CPUWeight: &weight, IOWeight: &weight}
	for _, c := range []struct {
		name string
		l    Limits
		v2   bool
		want string
	}{
		{"v2", l, true, "pids.max=16 memory.max=67108864 cpu.weight=200 cpu.max=50000 100000 io.weight=200"},
		{"v1", l, false, "memory.limit_in_bytes=67108864 cpu.shares=2048 cpu.cfs_period_us=100000 cpu.cfs_quota_us=50000 pids.max=16 blkio.weight=1000"},
		{"zeros unset", Limits{MemoryMax: &zero, CPUWeight: &zero, PidsMax: &noPids}, true, "pids.max=max"},
		{"no quota", Limits{CPUQuota: new(int64(-1)), CPUPeriod: 20000}, true, "cpu.max=max 20000"},
	} {
		set, err := settings(c.l, c.v2)
		var got []string
		for _, s := range set {
			got = append(got, s.file+"="+s.value)
		}
		if err != nil || strings.Join(got, " ") != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, strings.Join(got, " "), err, c.want)
		}
	}
}

func TestBadPaths(t *testing.T) {
	for _, p := range []string{"", "/abs", "a/../b", "a//b", "a/"} {
		if _, err := New(p); err == nil {
			t.Errorf("New(%q) accepted", p)
		}
	}
}

// TestLifecycle makes a group with limits, reads them back, places a child,
// lists and kills it, and removes the group (root only).
func TestLifecycle(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: makes a cgroup")
	}
	mem, pids, quota, weight := uint64(64<<20), int64(16), int64(50000), uint64(200)
	path := "daemonbox-test/lifecycle-" + strconv.Itoa(os.Getpid())
	g, err := Create(path, Limits{MemoryMax: &mem, PidsMax: &pids, CPUQuota: &quota, CPUPeriod: 100000, CPUWeight: &weight})
	if err != nil {
		t.Fatal(err)
	}
	defer removeParent(t, "daemonbox-test")
	defer g.Remove()
	checkLimits(t, g)
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	if err := g.Place(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		t.Fatal(err)
	}
	if got, err := g.Procs(); err != nil || !slices.Equal(got, []int{cmd.Process.Pid}) {
		t.Errorf("Procs = %v, %v; want [%d]", got, err, cmd.Process.Pid)
	}
	go cmd.Wait() // reap, so that the kill completes
	if err := g.Kill(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := g.Remove(); err != nil || g.Exists() {
		t.Errorf("Remove: %v; exists %v", err, g.Exists())
	}
}

func checkLimits(t *testing.T, g *Group) {
	t.Helper()
	want := map[string]string{"memory.max": "67108864", "pids.max": "16", "cpu.max": "50000 100000", "cpu.weight": "200"}
	if !g.V2() {
		want = map[string]string{"memory/memory.limit_in_bytes": "67108864", "pids/pids.max": "16",
			"cpu/cpu.cfs_quota_us": "50000", "cpu/cpu.cfs_period_us": "100000", "cpu/cpu.shares": "2048"}
	}
	for file, v := range want {
		dir := g.Dirs()[""]
		if c, f, ok := strings.Cut(file, "/"); ok {
			dir, file = g.Dirs()[c], f
		}
		b, err := os.ReadFile(filepath.Join(dir, file))
		if got := strings.TrimSpace(string(b)); err != nil || got != v {
			t.Errorf("%s/%s = %q, %v; want %q", dir, file, got, err, v)
		}
	}
}

func removeParent(t *testing.T, path string) {
	if g, err := New(path); err == nil {
		if err := g.Remove(); err != nil {
			t.Error(err)
		}
	}
}

// v1's memory+swap of zero is left unset, as runc's library left it: the
// kernel refuses a memsw limit of 0.
func TestZeroSwapOnV1Unset(t *testing.T) {
	zero := uint64(0)
	set, err := settings(Limits{MemoryMax: &zero, MemorySwapMax: &zero}, false)
	if err != nil || len(set) != 0 {
		t.Errorf("settings = %+v, %v; want none", set, err)
	}
}

// A limit whose file is missing names the file, the errno and the likely
// causes; a hierarchy that is not mounted is refused, not written relative
// to the working directory.
func TestMissingLimitFile(t *testing.T) {
	dir := t.TempDir()
	g := &Group{path: "x", paths: map[string]string{"": dir}, v2: true}
	err := g.apply([]setting{{file: "memory.swap.max", value: "0"}})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "memory.swap.max")) ||
		!strings.Contains(err.Error(), "no such file") || !strings.Contains(err.Error(), "swap accounting") {
		t.Errorf("apply: %v", err)
	}
	if err := writeFile("", "freezer.state", "FROZEN"); err == nil || !strings.Contains(err.Error(), "not mounted") {
		t.Errorf("writeFile with no directory: %v", err)
	}
}

// Remove tries every hierarchy, and says which it could not remove.
func TestRemoveTriesEveryHierarchy(t *testing.T) {
	root := t.TempDir()
	busy, empty := filepath.Join(root, "busy"), filepath.Join(root, "empty")
	os.Mkdir(busy, 0o755)
	os.Mkdir(empty, 0o755)
	os.WriteFile(filepath.Join(busy, "file"), nil, 0o644) // rmdir: not empty
	g := &Group{path: "x", paths: map[string]string{"a": busy, "b": empty}}
	err := g.Remove()
	if _, serr := os.Stat(empty); err == nil || !strings.Contains(err.Error(), busy) || serr == nil {
		t.Errorf("Remove: %v; %s still there: %v", err, empty, serr == nil)
	}
}
