package cgroup

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A setting is one value for one cgroupfs file of the group.
type setting struct {
	controller string // v1's hierarchy; "" on v2
	file       string
	value      string
}

// settings turns l into the files to write, in the order runc's library
// writes them (memory, cpu, pids, io on v1; pids, memory, cpu, then swap
// and io on v2). A zero memory limit, quota or weight is not written, as
// the library never did.
func settings(l Limits, v2 bool) ([]setting, error) {
	if v2 {
		return settingsV2(l), nil
	}
	return settingsV1(l)
}

func settingsV2(l Limits) []setting {
	var out []setting
	add := func(file, value string) { out = append(out, setting{file: file, value: value}) }
	if l.PidsMax != nil {
		add("pids.max", pidsMax(*l.PidsMax))
	}
	if l.MemoryMax != nil && *l.MemoryMax > 0 {
		add("memory.max", strconv.FormatInt(clampInt64(*l.MemoryMax), 10))
	}
	if w := l.CPUWeight; w != nil && *w > 0 {
		add("cpu.weight", strconv.FormatUint(*w, 10))
	}
	if l.CPUQuota != nil {
		add("cpu.max", quota(*l.CPUQuota)+" "+strconv.FormatUint(period(l.CPUPeriod), 10))
	}
	if l.MemorySwapMax != nil {
		add("memory.swap.max", strconv.FormatUint(*l.MemorySwapMax, 10))
	}
	if w := l.IOWeight; w != nil && *w > 0 {
		add("io.weight", strconv.FormatUint(*w, 10))
	}
	return out
}

// settingsV1 is v1's files. Its swap limit is memory plus swap, so it
// needs memory_max. Of the two memory files, the one whose new value
// makes room for the other goes first; apply orders them against the
// group's current limit.
func settingsV1(l Limits) ([]setting, error) {
	var out []setting
	add := func(c, file, value string) { out = append(out, setting{c, file, value}) }
	if l.MemoryMax != nil && *l.MemoryMax > 0 {
		add("memory", "memory.limit_in_bytes", strconv.FormatInt(clampInt64(*l.MemoryMax), 10))
	}
	if l.MemorySwapMax != nil {
		if l.MemoryMax == nil {
			return nil, errors.New("memory_swap_max needs memory_max on cgroup v1, whose limit is memory plus swap")
		}
		if both := clampInt64(*l.MemoryMax + *l.MemorySwapMax); both > 0 {
			add("memory", "memory.memsw.limit_in_bytes", strconv.FormatInt(both, 10))
		}
	}
	if w := l.CPUWeight; w != nil && *w > 0 {
		add("cpu", "cpu.shares", strconv.FormatUint(CPUShares(*w), 10))
	}
	if l.CPUQuota != nil {
		add("cpu", "cpu.cfs_period_us", strconv.FormatUint(period(l.CPUPeriod), 10))
		add("cpu", "cpu.cfs_quota_us", strconv.FormatInt(*l.CPUQuota, 10))
	}
	if l.PidsMax != nil {
		add("pids", "pids.max", pidsMax(*l.PidsMax))
	}
	if w := l.IOWeight; w != nil && *w > 0 {
		add("blkio", "blkio.weight", strconv.FormatUint(uint64(BlkioWeight(*w)), 10))
	}
	return out, nil
}

// pidsMax is pids.max for a limit: "max" for none, and 1 for 0, as runc
// and systemd write it.
func pidsMax(n int64) string {
	switch {
	case n > 0:
		return strconv.FormatInt(n, 10)
	case n == 0:
		return "1"
	}
	return "max"
}

func quota(q int64) string {
	if q > 0 {
		return strconv.FormatInt(q, 10)
	}
	return "max"
}

// period is the quota's period, the kernel's default of 100 ms if unset.
func period(p uint64) uint64 {
	if p == 0 {
		return 100000
	}
	return p
}

// apply writes the settings to the group's files.
func (g *Group) apply(set []setting) error {
	set = g.orderV1(set)
	for i := 0; i < len(set); i++ {
		s := set[i]
		dir := g.paths[s.controller]
		err := writeFile(dir, s.file, s.value)
		// A smaller period can break the parent's quota until the new
		// quota, which follows, is written: then it is written again.
		if s.file == "cpu.cfs_period_us" && errors.Is(err, unix.EINVAL) && i+1 < len(set) {
			set = append(set, s)
			continue
		}
		if errors.Is(err, os.ErrNotExist) && s.file == "blkio.weight" {
			err = writeFile(dir, "blkio.bfq.weight", s.value) // the BFQ scheduler's
		}
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%w: the kernel offers this group no such file (its controller not enabled in the parent's cgroup.subtree_control, or a feature this kernel lacks, such as swap accounting or blkio weights)", err)
		}
		if err != nil {
			return err
		}
		if s.file == "cpu.shares" {
			if err := checkShares(dir, s.value); err != nil {
				return err
			}
		}
	}
	return nil
}

// orderV1 puts memory.memsw.limit_in_bytes first when its value is above
// the group's current memory limit: the kernel refuses a memory limit
// above memory plus swap, and one of memory plus swap below memory.
func (g *Group) orderV1(set []setting) []setting {
	i := indexOf(set, "memory.memsw.limit_in_bytes")
	if g.v2 || i <= 0 || set[0].file != "memory.limit_in_bytes" {
		return set
	}
	cur, err := os.ReadFile(g.paths["memory"] + "/memory.limit_in_bytes")
	n, perr := strconv.ParseInt(strings.TrimSpace(string(cur)), 10, 64)
	swap, _ := strconv.ParseInt(set[i].value, 10, 64)
	if err == nil && perr == nil && n < swap {
		set[0], set[i] = set[i], set[0]
	}
	return set
}

func indexOf(set []setting, file string) int {
	for i, s := range set {
		if s.file == file {
			return i
		}
	}
	return -1
}

// checkShares reads cpu.shares back: the kernel clamps it silently.
func checkShares(dir, want string) error {
	got, err := os.ReadFile(dir + "/cpu.shares")
	if err != nil {
		return err
	}
	if g := strings.TrimSpace(string(got)); g != want {
		return fmt.Errorf("cpu.shares: wrote %s, the kernel kept %s", want, g)
	}
	return nil
}

func clampInt64(n uint64) int64 {
	if n > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(n)
}

// CPUShares is v1's cpu.shares for a cpu.weight, as systemd converts it:
// the defaults (100 and 1024) match, and the rest scales linearly.
func CPUShares(weight uint64) uint64 {
	return min(max(weight*1024/100, 2), 262144)
}

// BlkioWeight is v1's blkio weight for an io.weight, as systemd converts
// it: the defaults (100 and 500) match, clamped to v1's 10..1000.
func BlkioWeight(weight uint64) uint16 {
	return uint16(min(max(weight*500/100, 10), 1000))
}
