package cgroup

import (
	"errors"
	"math"
	"strconv"

	"github.com/opencontainers/cgroups"
)

// resources turns l into the library's terms, whose scales are v1's where
// the two differ: MemorySwap is memory plus swap, CpuShares and BlkioWeight
// are v1's. v2 takes the weights as they are.
func resources(l Limits, v2 bool) (*cgroups.Resources, error) {
	r := &cgroups.Resources{SkipDevices: true}
	if v2 {
		r.Unified = map[string]string{}
	}
	if l.MemoryMax != nil {
		r.Memory = clampInt64(*l.MemoryMax)
	}
	if err := swap(r, l, v2); err != nil {
		return nil, err
	}
	r.PidsLimit = l.PidsMax
	if l.CPUQuota != nil {
		r.CpuQuota, r.CpuPeriod = *l.CPUQuota, l.CPUPeriod
	}
	if w := l.CPUWeight; w != nil && v2 {
		r.CpuWeight = *w
	} else if w != nil {
		r.CpuShares = CPUShares(*w)
	}
	if w := l.IOWeight; w != nil && v2 {
		r.Unified["io.weight"] = strconv.FormatUint(*w, 10)
	} else if w != nil {
		r.BlkioWeight = BlkioWeight(*w)
	}
	return r, nil
}

// swap sets the swap limit: v1 knows only memory plus swap, which needs
// memory_max; v2 has memory.swap.max of its own.
func swap(r *cgroups.Resources, l Limits, v2 bool) error {
	switch {
	case l.MemorySwapMax == nil:
		return nil
	case v2:
		r.Unified["memory.swap.max"] = strconv.FormatUint(*l.MemorySwapMax, 10)
	case l.MemoryMax == nil:
		return errors.New("memory_swap_max needs memory_max on cgroup v1, whose limit is memory plus swap")
	default:
		r.MemorySwap = clampInt64(*l.MemoryMax + *l.MemorySwapMax)
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
