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
	if _, err := resources(Limits{MemorySwapMax: &s}, false); err == nil {
		t.Error("v1 swap without memory_max accepted")
	}
	r, err := resources(Limits{MemorySwapMax: &s, MemoryMax: &s}, false)
	if err != nil || r.MemorySwap != 2<<20 {
		t.Errorf("v1 memory+swap = %d, %v; want %d", r.MemorySwap, err, 2<<20)
	}
	r, _ = resources(Limits{MemorySwapMax: &s}, true)
	if r.Unified["memory.swap.max"] != "1048576" {
		t.Errorf("v2 memory.swap.max = %q", r.Unified["memory.swap.max"])
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
