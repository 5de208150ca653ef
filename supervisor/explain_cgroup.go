package supervisor

import (
	"fmt"
	"strconv"

	"github.com/daemonbox/daemonbox/cgroup"
	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// explainCgroup shows the daemon's cgroup ([resources]): where, on which
// hierarchy, when, and each limit set, in the file it is written to.
func explainCgroup(line func(k, format string, args ...any), p *sandbox.Plan) {
	c := p.Cgroup
	if c.Path == "" {
		line("cgroup", "none (%s)", c.None)
		return
	}
	when := "when supervised"
	switch {
	case c.Set:
		when = "supervised or in place"
	case p.NamespaceEndsAll():
		when = "under start; a foreground run has none: its PID namespace's end ends all in it"
	}
	hier, base := "v1", ""
	if c.V2 {
		hier = "v2"
	}
	if c.Delegated {
		base = ", under daemonbox's delegated /" + c.Base
	}
	line("cgroup", "/%s (cgroup %s, %s%s)", c.Path, hier, when, base)
	explainLimits(line, c.Limits, c.V2)
}

func explainLimits(line func(k, format string, args ...any), l cgroup.Limits, v2 bool) {
	v1 := func(v2text, v1text string) string {
		if v2 {
			return v2text
		}
		return v1text
	}
	if l.MemoryMax != nil {
		line("memory_max", "%s (%s)", size(*l.MemoryMax), v1("memory.max", "memory.limit_in_bytes"))
	}
	if l.MemorySwapMax != nil {
		line("memory_swap_max", "%s (%s)", size(*l.MemorySwapMax), v1("memory.swap.max", "memory.memsw.limit_in_bytes, with memory"))
	}
	if l.PidsMax != nil {
		line("pids_max", "%d (pids.max)", *l.PidsMax)
	}
	if l.CPUQuota != nil {
		line("cpu_max", "%s%% of one CPU (%d us per %d us, %s)", strconv.FormatFloat(float64(*l.CPUQuota)*100/float64(l.CPUPeriod), 'f', -1, 64),
			*l.CPUQuota, l.CPUPeriod, v1("cpu.max", "cpu.cfs_quota_us"))
	}
	if w := l.CPUWeight; w != nil {
		line("cpu_weight", "%s", v1(fmt.Sprintf("%d (cpu.weight)", *w), fmt.Sprintf("%d (cpu.shares %d)", *w, cgroup.CPUShares(*w))))
	}
	if w := l.IOWeight; w != nil {
		line("io_weight", "%s", v1(fmt.Sprintf("%d (io.weight)", *w), fmt.Sprintf("%d (blkio.weight %d)", *w, cgroup.BlkioWeight(*w))))
	}
}

func size(n uint64) string { return spec.FormatLimit(unix.RLIMIT_AS, n) }
