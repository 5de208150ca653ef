package export

import (
	"fmt"
	"runtime"
	"sort"
	"strings"

	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The system call filter is exported from the very program the launch
// would load (Plan.Filter), not from the policy: the program is run, for
// each number of the architecture's table, along every path its argument
// tests allow, and each path that ends other than in the refusal becomes a
// rule. Whatever the policy grows (argument rules, new refusals), the
// export follows it, and an instruction it cannot read is an error rather
// than a rule silently dropped.

// ociArch is libseccomp's name of the running architecture.
func ociArch() (specs.Arch, error) {
	switch runtime.GOARCH {
	case "amd64":
		return specs.ArchX86_64, nil
	case "arm64":
		return specs.ArchAARCH64, nil
	}
	return "", fmt.Errorf("export: seccomp: no libseccomp name for %s", runtime.GOARCH)
}

// ociSeccomp is the plan's filter as a LinuxSeccomp: the refusal as the
// default action, and rules for what the filter allows or answers
// otherwise, grouped by action and argument tests.
func ociSeccomp(p *sandbox.Plan) (*specs.LinuxSeccomp, error) {
	if p.Filter == nil {
		return nil, nil
	}
	arch, err := ociArch()
	if err != nil {
		return nil, err
	}
	prog, err := seccomp.Decode(p.Filter)
	if err != nil {
		return nil, fmt.Errorf("export: seccomp: %v", err)
	}
	calls, err := filterPaths(prog)
	if err != nil {
		return nil, err
	}
	def := refusal(calls)
	action, errno, err := ociAction(def)
	if err != nil {
		return nil, err
	}
	rules, err := ociRules(calls, def)
	if err != nil {
		return nil, err
	}
	return &specs.LinuxSeccomp{DefaultAction: action, DefaultErrnoRet: errno,
		Architectures: []specs.Arch{arch}, Syscalls: rules}, nil
}

// callPaths are the ways through the filter of one system call.
type callPaths struct {
	name  string
	paths []bpfPath
}

// filterPaths runs prog for every number in the table.
func filterPaths(prog []unix.SockFilter) ([]callPaths, error) {
	var out []callPaths
	for nr := 0; nr <= seccomp.MaxSyscall(); nr++ {
		name := seccomp.SyscallName(nr)
		if name == "" {
			continue
		}
		paths, err := runFilter(prog, seccomp.AuditArch(), uint32(nr))
		if err != nil {
			return nil, fmt.Errorf("export: seccomp: %s: %v", name, err)
		}
		out = append(out, callPaths{name, paths})
	}
	return out, nil
}

// refusal is what most calls that are not allowed get: the policy's action.
func refusal(calls []callPaths) uint32 {
	count := map[uint32]int{}
	for _, c := range calls {
		for _, p := range c.paths {
			if p.ret != unix.SECCOMP_RET_ALLOW {
				count[p.ret]++
			}
		}
	}
	best, n := uint32(unix.SECCOMP_RET_ERRNO|uint32(unix.EPERM)), 0
	for ret, c := range count {
		if c > n || (c == n && ret < best) {
			best, n = ret, c
		}
	}
	return best
}

// ociAction names a filter's return value as OCI does.
func ociAction(ret uint32) (specs.LinuxSeccompAction, *uint, error) {
	data := uint(ret & unix.SECCOMP_RET_DATA)
	switch ret & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_ALLOW:
		return specs.ActAllow, nil, nil
	case unix.SECCOMP_RET_ERRNO:
		return specs.ActErrno, &data, nil
	case unix.SECCOMP_RET_KILL_PROCESS:
		return specs.ActKillProcess, nil, nil
	case unix.SECCOMP_RET_KILL_THREAD:
		return specs.ActKillThread, nil, nil
	case unix.SECCOMP_RET_LOG:
		return specs.ActLog, nil, nil
	case unix.SECCOMP_RET_TRAP:
		return specs.ActTrap, nil, nil
	}
	return "", nil, fmt.Errorf("export: seccomp: return value %#x has no OCI action", ret)
}

// ociRules makes a rule of each path that does not end in def, and merges
// rules that differ only in the call's name.
func ociRules(calls []callPaths, def uint32) ([]specs.LinuxSyscall, error) {
	byKey := map[string]*specs.LinuxSyscall{}
	for _, c := range calls {
		for _, p := range c.paths {
			if p.ret == def {
				continue
			}
			rules, err := pathRules(p)
			if err != nil {
				return nil, fmt.Errorf("export: seccomp: %s: %v", c.name, err)
			}
			for _, r := range rules {
				key := ruleKey(r)
				if have, ok := byKey[key]; ok {
					have.Names = append(have.Names, c.name)
					continue
				}
				r.Names = []string{c.name}
				byKey[key] = &r
			}
		}
	}
	out := make([]specs.LinuxSyscall, 0, len(byKey))
	for _, r := range byKey {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool {
		ki, kj := ruleKey(out[i]), ruleKey(out[j])
		return ki < kj || ki == kj && out[i].Names[0] < out[j].Names[0]
	})
	return out, nil
}

// ruleKey says what a rule does, its names aside; unconditional allows
// sort first.
func ruleKey(r specs.LinuxSyscall) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", len(r.Args), r.Action)
	if r.ErrnoRet != nil {
		fmt.Fprintf(&b, " %d", *r.ErrnoRet)
	}
	for _, a := range r.Args {
		fmt.Fprintf(&b, " %d %s %#x %#x", a.Index, a.Op, a.Value, a.ValueTwo)
	}
	return b.String()
}
