package spec

import (
	"strconv"
	"strings"
)

// [resources]: the daemon's own cgroup and its limits.

var (
	resourceKeys = []string{"memory_max", "memory_swap_max", "pids_max", "cpu_max", "cpu_weight", "io_weight", "parent"}
)

// CPUPeriod is the period of cpu_max, in microseconds (the kernel's default).
const CPUPeriod = 100000

// Resources is [resources]. A nil limit is not set. The daemon gets its
// cgroup, "<Parent>/<name>", whenever it is supervised, limits or not.
type Resources struct {
	Set           bool    // the spec has a [resources] table
	MemoryMax     *uint64 // bytes
	MemorySwapMax *uint64 // bytes
	PidsMax       *int64
	CPUQuota      *int64  // microseconds per CPUPeriod
	CPUWeight     *uint64 // 1..10000 (cpu.weight)
	IOWeight      *uint64 // 1..10000 (io.weight)
	Parent        string  // relative to the cgroup root (or to daemonbox's own delegated cgroup)
}

// DefaultCgroupParent is where daemon cgroups are made by default.
const DefaultCgroupParent = "daemonbox"

func (d *decoder) resources(v any) {
	m, ok := d.table("resources", v, resourceKeys)
	if !ok {
		return
	}
	r := &d.s.Resources
	r.Set = true
	each(m, resourceKeys, func(k string, x any) {
		key := "resources." + k
		switch k {
		case "memory_max":
			r.MemoryMax = d.bytes(key, x)
		case "memory_swap_max":
			r.MemorySwapMax = d.bytes(key, x)
		case "pids_max":
			if n, ok := d.integer(key, x, 1, 1<<31); ok {
				r.PidsMax = &n
			}
		case "cpu_max":
			r.CPUQuota = d.cpuMax(key, x)
		case "cpu_weight":
			r.CPUWeight = d.weight(key, x)
		case "io_weight":
			r.IOWeight = d.weight(key, x)
		case "parent":
			r.Parent = d.cgroupParent(key, x)
		}
	})
}

func (d *decoder) bytes(key string, v any) *uint64 {
	var n uint64
	switch x := v.(type) {
	case int64:
		if x < 0 {
			d.fail(key, "must not be negative")
			return nil
		}
		n = uint64(x)
	case string:
		var problem string
		if n, problem = parseSize(x); problem != "" {
			d.fail(key, "%s", problem)
			return nil
		}
	default:
		d.fail(key, "expected a size (\"256MiB\") or bytes, got %s", describe(v))
		return nil
	}
	return &n
}

// cpuMax reads "50%" of one CPU or a number of CPUs ("2", 1.5 or 2).
func (d *decoder) cpuMax(key string, v any) *int64 {
	var cpus float64
	switch x := v.(type) {
	case int64:
		cpus = float64(x)
	case float64:
		cpus = x
	case string:
		pct, isPct := strings.CutSuffix(x, "%")
		f, err := strconv.ParseFloat(pct, 64)
		if err != nil {
			d.fail(key, "%q is not a CPU share: use \"50%%\" of one CPU or a number of CPUs (\"2\")", clip(x))
			return nil
		}
		if cpus = f; isPct {
			cpus = f / 100
		}
	default:
		d.fail(key, "expected \"50%%\" or a number of CPUs, got %s", describe(v))
		return nil
	}
	quota := int64(cpus * CPUPeriod)
	if quota < 1000 || cpus > 4096 {
		d.fail(key, "must be at least 1%% of one CPU and at most 4096 CPUs")
		return nil
	}
	return &quota
}

func (d *decoder) weight(key string, v any) *uint64 {
	n, ok := d.integer(key, v, 1, 10000)
	if !ok {
		return nil
	}
	w := uint64(n)
	return &w
}

// cgroupParent reads a relative cgroup path: plain names joined by '/'.
func (d *decoder) cgroupParent(key string, v any) string {
	s, ok := d.str(key, v)
	if !ok {
		return ""
	}
	for _, part := range strings.Split(s, "/") {
		if part == "" || part == "." || part == ".." || len(part) > 64 {
			d.fail(key, "%q: use names joined by '/', relative, without '.' or '..'", clip(s))
			return ""
		}
	}
	return s
}
