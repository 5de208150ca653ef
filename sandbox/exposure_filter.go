package sandbox

import (
	"fmt"
	"slices"

	"github.com/daemonbox/daemonbox/seccomp"
	"golang.org/x/sys/unix"
)

// filterGroups are the syscall groups systemd-analyze security wants a
// service to refuse, with its weights.
var filterGroups = []struct {
	name   string
	weight int
	why    string
}{
	{"@clock", 1000, "sets the system clock"},
	{"@cpu-emulation", 250, "vm86 and friends: old, rarely audited code"},
	{"@debug", 1000, "ptrace and perf: read and change other processes"},
	{"@module", 1000, "loads kernel modules"},
	{"@mount", 1000, "mounts and pivot_root"},
	{"@obsolete", 250, "calls nothing needs, rarely audited"},
	{"@privileged", 1000, "calls that need a capability, each a check to get right"},
	{"@raw-io", 1000, "raw port and device access"},
	{"@reboot", 1000, "reboots or kexecs the machine"},
	{"@resources", 1000, "changes limits, priorities and memory policy"},
	{"@swap", 1000, "turns swap on and off"},
}

func (p *Plan) filterExposure() []Exposure {
	rows := make([]Exposure, 0, len(filterGroups)+6)
	for _, g := range filterGroups {
		let := p.filterLets(g.name)
		r := Exposure{Item: "seccomp " + g.name, Weight: g.weight, Badness: let, Why: g.why}
		switch {
		case let == 0:
			r.State = "refused"
		case let == 1:
			r.State = "allowed"
		default:
			r.State = fmt.Sprintf("%.0f%% allowed", 100*let)
		}
		rows = append(rows, r)
	}
	on := p.filterOn()
	return append(rows,
		row("seccomp native ABI", 1000, on, "native only", "every ABI", "i386 and x32 entry points are a known way around a filter"),
		row("namespace creation", 1500, on && p.filterLets("unshare") == 0, "refused", "allowed", "a new user namespace gives full capabilities over it: the start of most container escapes"),
		row("personality", 100, on && p.filterLets("personality") < 1, "locked", "any", "other personas change how the kernel reads old calls"),
		row("io_uring", 1000, on && p.filterLets("io_uring_setup") == 0, "refused", "allowed", "the leading source of kernel exploits"),
		row("userfaultfd", 500, on && p.filterLets("userfaultfd") == 0, "refused", "allowed", "stalls the kernel at will, a staple of race exploits"),
		row("keyrings", 500, on && p.filterLets("@keyring") == 0, "refused", "allowed", "kernel keyrings are not namespaced"),
		p.familiesExposure(on),
		row("W+X memory", 100, on && p.SeccompPolicy.DenyWriteExecute, "refused", "allowed", "memory both writable and executable lets an exploit run the code it wrote"),
	)
}

// commonFamilies are the families systemd-analyze security does not count
// as exotic: local, IP and netlink sockets.
var commonFamilies = []int{unix.AF_UNIX, unix.AF_INET, unix.AF_INET6, unix.AF_NETLINK}

func (p *Plan) familiesExposure(on bool) Exposure {
	r := Exposure{Item: "socket families", Weight: 1250, State: "any", Badness: 1,
		Why: "exotic families (AF_VSOCK, AF_ALG, AF_PACKET, ...) are rarely audited kernel code"}
	if !on || p.SeccompPolicy.Families == nil {
		return r
	}
	r.State = "none"
	if names := seccomp.FamilyNames(p.SeccompPolicy.Families); names != "" {
		r.State = names
	}
	r.Badness = 0
	for _, f := range p.SeccompPolicy.Families {
		if !slices.Contains(commonFamilies, f) {
			r.Badness = 1
		}
	}
	return r
}

// filterLets is the share of a group's calls (or of one call) that the
// plan's filter lets through: 1 without a filter.
func (p *Plan) filterLets(name string) float64 {
	if !p.filterOn() {
		return 1
	}
	return p.SeccompPolicy.Lets(name)
}

// filterOn reports whether a filter refuses anything: with action = "log"
// every call is let through.
func (p *Plan) filterOn() bool {
	return p.Filter != nil && p.SeccompPolicy != nil && p.SeccompPolicy.Action != seccomp.ActionLog
}

func (p *Plan) limitExposure() []Exposure {
	l, in := p.Cgroup.Limits, p.Cgroup.Path != ""
	return []Exposure{
		row("memory limit", 500, in && l.MemoryMax != nil, "memory_max", "none", "a leak or a hog takes the host's memory with it"),
		row("task limit", 500, in && l.PidsMax != nil, "pids_max", "none", "a fork bomb takes the host's process table with it"),
		row("cpu limit", 200, in && (l.CPUQuota != nil || l.CPUWeight != nil), "cpu_max or cpu_weight", "none", "a busy loop takes CPU from every other service"),
	}
}
