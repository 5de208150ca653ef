package export

import (
	"encoding/binary"
	"slices"
	"syscall"
	"testing"

	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/seccomp"
	"github.com/daemonbox/daemonbox/spec"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The exported profile must answer every call as the filter does: for each
// number of the table and each argument value the filter tests (and its
// neighbours), the filter run concretely and the OCI rules read as
// libseccomp reads them give the same action. Rules that overlap with
// different actions fail the test, since libseccomp's choice between them
// is not the filter's.
func TestOCISeccompAnswersAsTheFilter(t *testing.T) {
	if seccomp.MaxSyscall() < 0 {
		t.Skip("no system call table for this architecture")
	}
	policies := map[string]seccomp.Policy{
		"default": {Allow: spec.DefaultSeccompAllow},
		"kill":    {Allow: spec.DefaultSeccompAllow, Action: seccomp.ActionKill},
		"log":     {Allow: spec.DefaultSeccompAllow, Action: seccomp.ActionLog},
		"eacces":  {Allow: spec.DefaultSeccompAllow, Errno: syscall.EACCES},
		"nomptcp": {Allow: spec.DefaultSeccompAllow, NoMPTCP: true},
		"lifted":  {Allow: []string{"@system-service", "clone", "personality", "unshare"}},
		"deny":    {Allow: spec.DefaultSeccompAllow, Deny: []string{"@resources", "socket"}},
		"narrow":  {Allow: []string{"read", "write", "exit_group", "execve", "clone"}},
	}
	for name, pol := range policies {
		t.Run(name, func(t *testing.T) {
			prog, err := pol.Build()
			if err != nil {
				t.Fatal(err)
			}
			sc, err := ociSeccomp(&sandbox.Plan{Launch: sandbox.Launch{Filter: prog}})
			if err != nil {
				t.Fatal(err)
			}
			insts, _ := seccomp.Decode(prog)
			compareAll(t, insts, sc)
		})
	}
}

func compareAll(t *testing.T, prog []unix.SockFilter, sc *specs.LinuxSeccomp) {
	t.Helper()
	for nr := 0; nr <= seccomp.MaxSyscall(); nr++ {
		name := seccomp.SyscallName(nr)
		if name == "" {
			continue
		}
		paths, err := runFilter(prog, seccomp.AuditArch(), uint32(nr))
		if err != nil {
			t.Fatal(err)
		}
		for _, args := range candidateArgs(paths) {
			want := concrete(paths, args)
			got, ok := ociAnswer(sc, name, args)
			if !ok {
				t.Fatalf("%s%v: rules with different actions overlap", name, args)
			}
			if got != want {
				t.Errorf("%s%v: OCI %#x, filter %#x", name, args, got, want)
			}
		}
	}
}

// candidateArgs are the argument vectors worth trying: every value a test
// names, with its neighbours, for each argument tested, crossed.
func candidateArgs(paths []bpfPath) [][6]uint32 {
	vals := map[int][]uint32{}
	for _, p := range paths {
		for _, c := range p.conds {
			for _, v := range []uint32{c.k, c.k + 1, c.k - 1, c.mask, c.mask & -c.mask, 0, 0xffffffff} {
				if !slices.Contains(vals[c.arg], v) {
					vals[c.arg] = append(vals[c.arg], v)
				}
			}
		}
	}
	out := [][6]uint32{{}}
	for arg, vs := range vals {
		var next [][6]uint32
		for _, a := range out {
			for _, v := range vs {
				a[arg] = v
				next = append(next, a)
			}
		}
		out = next
	}
	return out
}

// concrete is what the filter returns for these arguments.
func concrete(paths []bpfPath, args [6]uint32) uint32 {
	for _, p := range paths {
		if allTrue(p.conds, args) {
			return p.ret
		}
	}
	panic("no path holds")
}

func allTrue(conds []argCond, args [6]uint32) bool {
	for _, c := range conds {
		if !c.holds(args[c.arg]) {
			return false
		}
	}
	return true
}

// ociAnswer reads the profile as libseccomp does, the arguments' high
// halves zero: the rules naming the call whose tests all hold, else the
// default. ok is false when matching rules disagree.
func ociAnswer(sc *specs.LinuxSeccomp, name string, args [6]uint32) (ret uint32, ok bool) {
	var found []uint32
	for _, r := range sc.Syscalls {
		if !slices.Contains(r.Names, name) || !ociArgsHold(r.Args, args) {
			continue
		}
		found = append(found, retOf(r.Action, r.ErrnoRet))
	}
	if len(found) == 0 {
		return retOf(sc.DefaultAction, sc.DefaultErrnoRet), true
	}
	for _, f := range found[1:] {
		if f != found[0] {
			return 0, false
		}
	}
	return found[0], true
}

func ociArgsHold(tests []specs.LinuxSeccompArg, args [6]uint32) bool {
	for _, a := range tests {
		v := uint64(args[a.Index])
		var ok bool
		switch a.Op {
		case specs.OpEqualTo:
			ok = v == a.Value
		case specs.OpNotEqual:
			ok = v != a.Value
		case specs.OpMaskedEqual:
			ok = v&a.Value == a.ValueTwo
		case specs.OpGreaterThan:
			ok = v > a.Value
		case specs.OpGreaterEqual:
			ok = v >= a.Value
		case specs.OpLessThan:
			ok = v < a.Value
		case specs.OpLessEqual:
			ok = v <= a.Value
		}
		if !ok {
			return false
		}
	}
	return true
}

func retOf(a specs.LinuxSeccompAction, errno *uint) uint32 {
	switch a {
	case specs.ActAllow:
		return unix.SECCOMP_RET_ALLOW
	case specs.ActErrno:
		return unix.SECCOMP_RET_ERRNO | uint32(*errno)
	case specs.ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS
	case specs.ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD
	case specs.ActLog:
		return unix.SECCOMP_RET_LOG
	case specs.ActTrap:
		return unix.SECCOMP_RET_TRAP
	}
	return 0xdead
}

// The rules the brief names: clone refused with any CLONE_NEW* flag (a
// masked test), personality only 0 and 0xffffffff, clone3 ENOSYS, and
// the native architecture alone.
func TestOCISeccompDefaultRules(t *testing.T) {
	if seccomp.MaxSyscall() < 0 {
		t.Skip("no system call table for this architecture")
	}
	prog, err := seccomp.Policy{Allow: spec.DefaultSeccompAllow}.Build()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := ociSeccomp(&sandbox.Plan{Launch: sandbox.Launch{Filter: prog}})
	if err != nil {
		t.Fatal(err)
	}
	if sc.DefaultAction != specs.ActErrno || *sc.DefaultErrnoRet != uint(syscall.EPERM) || len(sc.Architectures) != 1 {
		t.Errorf("default %s %v, architectures %v", sc.DefaultAction, *sc.DefaultErrnoRet, sc.Architectures)
	}
	want := map[string]string{"clone": "SCMP_CMP_MASKED_EQ", "personality": "SCMP_CMP_EQ"}
	for _, r := range sc.Syscalls {
		for _, n := range r.Names {
			switch {
			case n == "clone3" && (r.Action != specs.ActErrno || *r.ErrnoRet != uint(syscall.ENOSYS)):
				t.Errorf("clone3: %s", r.Action)
			case want[n] != "" && (len(r.Args) != 1 || string(r.Args[0].Op) != want[n]):
				t.Errorf("%s: %+v", n, r.Args)
			case n == "unshare" || n == "io_uring_setup" || n == "keyctl":
				t.Errorf("%s has a rule (%s); the default refuses it", n, r.Action)
			}
		}
	}
}

// A filter with argument rules the policy does not have yet: socket allowed
// for three families and EAFNOSUPPORT for every other, personality allowed
// for a range, a JSET on two bits. "None of these" and a range need more
// than one test of an argument, which runc ignores, so they become blocks;
// the profile must still answer as the filter does.
func TestOCISeccompArgumentSets(t *testing.T) {
	nr := func(name string) uint32 {
		for n := 0; n <= seccomp.MaxSyscall(); n++ {
			if seccomp.SyscallName(n) == name {
				return uint32(n)
			}
		}
		t.Fatalf("no %s", name)
		return 0
	}
	const (
		ld   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jge  = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
		jset = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
		ret  = unix.BPF_RET | unix.BPF_K
	)
	allow, eperm, eafno := uint32(unix.SECCOMP_RET_ALLOW), uint32(unix.SECCOMP_RET_ERRNO|1), uint32(unix.SECCOMP_RET_ERRNO|97)
	low0 := argLow0()
	prog := []unix.SockFilter{
		{Code: ld, K: 0},
		{Code: jeq, K: nr("socket"), Jt: 0, Jf: 6},
		{Code: ld, K: low0},
		{Code: jeq, K: 1, Jt: 3, Jf: 0},
		{Code: jeq, K: 2, Jt: 2, Jf: 0},
		{Code: jeq, K: 10, Jt: 1, Jf: 0},
		{Code: ret, K: eafno},
		{Code: ret, K: allow},
		{Code: jeq, K: nr("personality"), Jt: 0, Jf: 5},
		{Code: ld, K: low0},
		{Code: jge, K: 8, Jt: 0, Jf: 2},
		{Code: jge, K: 100, Jt: 1, Jf: 0},
		{Code: ret, K: allow},
		{Code: ret, K: eperm},
		{Code: jeq, K: nr("madvise"), Jt: 0, Jf: 4},
		{Code: ld, K: low0 + 16}, // the third argument
		{Code: jset, K: 0x30, Jt: 0, Jf: 1},
		{Code: ret, K: eafno},
		{Code: ret, K: allow},
		{Code: ret, K: eperm},
	}
	var b []byte
	for _, in := range prog {
		b = binary.NativeEndian.AppendUint16(b, in.Code)
		b = append(b, in.Jt, in.Jf)
		b = binary.NativeEndian.AppendUint32(b, in.K)
	}
	sc, err := ociSeccomp(&sandbox.Plan{Launch: sandbox.Launch{Filter: b}})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range sc.Syscalls {
		count[r.Names[0]]++
		seen := map[uint]bool{}
		for _, a := range r.Args {
			if seen[a.Index] {
				t.Errorf("%v: two tests of argument %d in one rule", r.Names, a.Index)
			}
			seen[a.Index] = true
		}
	}
	t.Logf("rules: %v", count)
	compareAll(t, prog, sc)
}

func argLow0() uint32 {
	if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 {
		return 20
	}
	return 16
}
