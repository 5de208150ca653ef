package seccomp

import (
	"encoding/binary"
	"slices"
	"strings"
	"syscall"
	"testing"

	libseccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
)

const (
	retAllow = uint32(libseccomp.ActionAllow)
	retKill  = uint32(libseccomp.ActionKillProcess)
	retLog   = uint32(libseccomp.ActionLog)
	retEPERM = uint32(libseccomp.ActionErrno) | uint32(syscall.EPERM)
	retNOSYS = uint32(libseccomp.ActionErrno) | uint32(syscall.ENOSYS)
	// retEPERMFixed is what the W^X rules answer whatever the action.
	retEPERMFixed   = retEPERM
	retEAFNOSUPPORT = uint32(libseccomp.ActionErrno) | uint32(syscall.EAFNOSUPPORT)
)

var defaultAllow = []string{ServiceGroup}

// native is the library's table for this architecture, which the tests use
// to name numbers; the filter uses the generated copy of it.
var native, _ = arch.GetInfo("")

// TestTableIsTheLibrarys: zsyscalls_GOARCH.go is go-seccomp-bpf's table
// (go generate ./seccomp after the library changes).
func TestTableIsTheLibrarys(t *testing.T) {
	if native == nil {
		t.Skip("go-seccomp-bpf has no table for this architecture")
	}
	if auditArch != uint32(native.ID) || hasX32 != (native == arch.X86_64) {
		t.Errorf("audit arch %#x x32 %v, the library's %#x", auditArch, hasX32, uint32(native.ID))
	}
	if len(syscallsByName) != len(native.SyscallNames) {
		t.Errorf("%d calls, the library has %d", len(syscallsByName), len(native.SyscallNames))
	}
	for name, nr := range native.SyscallNames {
		if got, ok := syscallNumber(name); !ok || got != nr || syscallNames[nr] != name {
			t.Errorf("%s: %d %v, the library's %d", name, got, ok, nr)
		}
	}
}

// call is one system call as the filter sees it (struct seccomp_data).
type call struct {
	name string // "" when nr is given
	nr   uint32
	arch uint32 // 0: the native audit arch
	args [6]uint64
}

// data lays c out as seccomp_data. The kernel's loads are native-endian and
// x/net/bpf's VM loads big-endian, so each 32-bit word is written big-endian
// where the native layout puts it.
func (c call) data(t *testing.T) []byte {
	b := make([]byte, 64)
	nr, a := c.nr, c.arch
	if c.name != "" {
		n, ok := native.SyscallNames[c.name]
		if !ok {
			t.Fatalf("%s is not in the %s table", c.name, native.Name)
		}
		nr = uint32(n)
	}
	if a == 0 {
		a = uint32(native.ID)
	}
	put := binary.BigEndian.PutUint32
	put(b[0:], nr)
	put(b[4:], a)
	for i, v := range c.args {
		lo, hi := 16+8*i, 16+8*i+4
		if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 { // big-endian host
			lo, hi = hi, lo
		}
		put(b[lo:], uint32(v))
		put(b[hi:], uint32(v>>32))
	}
	return b
}

// vm builds p and loads it into x/net/bpf's interpreter.
func vm(t *testing.T, p Policy) *bpf.VM {
	t.Helper()
	prog, err := p.Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	raw, err := Decode(prog)
	if err != nil {
		t.Fatal(err)
	}
	insts := make([]bpf.Instruction, len(raw))
	for i, r := range raw {
		insts[i] = bpf.RawInstruction{Op: r.Code, Jt: r.Jt, Jf: r.Jf, K: r.K}.Disassemble()
	}
	m, err := bpf.NewVM(insts)
	if err != nil {
		t.Fatalf("NewVM: %v", err)
	}
	return m
}

func answer(t *testing.T, m *bpf.VM, c call) uint32 {
	t.Helper()
	ret, err := m.Run(c.data(t))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return uint32(ret)
}

// run builds p and returns what the filter answers c.
func run(t *testing.T, p Policy, c call) uint32 {
	t.Helper()
	return answer(t, vm(t, p), c)
}

func nativeX86(t *testing.T) {
	if native != arch.X86_64 {
		t.Skipf("the x32 and i386 entry points are x86_64's; this is %s", native.Name)
	}
}

func TestDefaultPolicy(t *testing.T) {
	p := Policy{Allow: defaultAllow, Action: ActionErrno}
	plainClone := uint64(syscall.CLONE_VM | syscall.CLONE_FS | syscall.CLONE_FILES | syscall.CLONE_SIGHAND |
		syscall.CLONE_THREAD | syscall.CLONE_SYSVSEM | syscall.CLONE_SETTLS | syscall.CLONE_PARENT_SETTID | syscall.CLONE_CHILD_CLEARTID)
	for _, tc := range []struct {
		what string
		c    call
		want uint32
	}{
		{"read", call{name: "read"}, retAllow},
		{"execve", call{name: "execve"}, retAllow},
		{"unshare", call{name: "unshare", args: [6]uint64{syscall.CLONE_NEWUSER}}, retEPERM},
		{"setns", call{name: "setns"}, retEPERM},
		{"clone CLONE_NEWUSER", call{name: "clone", args: [6]uint64{syscall.CLONE_NEWUSER | uint64(syscall.SIGCHLD)}}, retEPERM},
		{"clone CLONE_NEWCGROUP", call{name: "clone", args: [6]uint64{0x02000000}}, retEPERM},
		{"clone for a thread", call{name: "clone", args: [6]uint64{plainClone}}, retAllow},
		{"clone as fork", call{name: "clone", args: [6]uint64{uint64(syscall.SIGCHLD)}}, retAllow},
		// After an argument check the number is loaded again, not compared as the argument.
		{"clone with flags equal to mount's number", call{name: "clone", args: [6]uint64{uint64(native.SyscallNames["mount"])}}, retAllow},
		{"personality of write's number", call{name: "personality", args: [6]uint64{uint64(native.SyscallNames["write"])}}, retEPERM},
		{"clone3", call{name: "clone3"}, retNOSYS},
		{"io_uring_setup", call{name: "io_uring_setup"}, retEPERM},
		{"userfaultfd", call{name: "userfaultfd"}, retEPERM},
		{"keyctl", call{name: "keyctl"}, retEPERM},
		{"add_key", call{name: "add_key"}, retEPERM},
		{"mount", call{name: "mount"}, retEPERM},
		{"ptrace", call{name: "ptrace"}, retEPERM},
		{"bpf", call{name: "bpf"}, retEPERM},
		{"personality PER_LINUX32", call{name: "personality", args: [6]uint64{8}}, retEPERM},
		{"personality 0", call{name: "personality"}, retAllow},
		{"personality query", call{name: "personality", args: [6]uint64{0xffffffff}}, retEPERM},
		{"personality 1<<32+8", call{name: "personality", args: [6]uint64{1<<32 | 8}}, retEPERM},
		// The kernel reads personality's argument as an unsigned int: this is 0.
		{"personality 1<<32", call{name: "personality", args: [6]uint64{1 << 32}}, retAllow},
		{"number 1000", call{nr: 1000}, retNOSYS},
		{"set_mempolicy", call{name: "set_mempolicy"}, retEPERM},
		{"mbind", call{name: "mbind"}, retEPERM},
		{"move_pages", call{name: "move_pages"}, retEPERM},
		{"kcmp", call{name: "kcmp"}, retEPERM},
		{"process_madvise", call{name: "process_madvise"}, retEPERM},
	} {
		if got := run(t, p, tc.c); got != tc.want {
			t.Errorf("%s: %#x, want %#x", tc.what, got, tc.want)
		}
	}
}

func TestOtherABIs(t *testing.T) {
	nativeX86(t)
	for _, p := range []Policy{{Allow: defaultAllow}, {Allow: defaultAllow, Action: ActionKill}} {
		getpid := uint32(native.SyscallNames["getpid"])
		if got := run(t, p, call{nr: x32Bit | getpid}); got != retNOSYS {
			t.Errorf("%s: x32 getpid: %#x, want ENOSYS", p.Action, got)
		}
		if got := run(t, p, call{nr: 20, arch: uint32(arch.I386.ID)}); got != retNOSYS {
			t.Errorf("%s: i386 getpid: %#x, want ENOSYS", p.Action, got)
		}
	}
}

func TestActions(t *testing.T) {
	for _, tc := range []struct {
		p             Policy
		refused, read uint32
	}{
		{Policy{Allow: defaultAllow, Action: ActionKill}, retKill, retAllow},
		{Policy{Allow: defaultAllow, Action: ActionLog}, retLog, retAllow},
		{Policy{Allow: defaultAllow, Action: ActionErrno, Errno: syscall.EACCES}, uint32(libseccomp.ActionErrno) | uint32(syscall.EACCES), retAllow},
		{Policy{Allow: defaultAllow}, retEPERM, retAllow},
	} {
		for _, c := range []call{{name: "unshare"}, {name: "mount"}, {name: "personality", args: [6]uint64{8}},
			{name: "clone", args: [6]uint64{syscall.CLONE_NEWNET}}} {
			if got := run(t, tc.p, c); got != tc.refused {
				t.Errorf("%s/%d: %s: %#x, want %#x", tc.p.Action, tc.p.Errno, c.name, got, tc.refused)
			}
		}
		if got := run(t, tc.p, call{name: "read"}); got != tc.read {
			t.Errorf("%s: read: %#x", tc.p.Action, got)
		}
		if got := run(t, tc.p, call{nr: 1000}); got != retNOSYS {
			t.Errorf("%s: number 1000: %#x, want ENOSYS", tc.p.Action, got)
		}
	}
}

// TestExplicitAllowLiftsBaseline: naming a call or its group, other than
// @system-service, lifts the baseline rule on it; deny wins over both.
func TestExplicitAllowLiftsBaseline(t *testing.T) {
	p := Policy{Allow: []string{ServiceGroup, "unshare", "@keyring", "clone", "clone3", "personality", "io_uring_setup"}}
	for _, c := range []call{{name: "unshare"}, {name: "keyctl"}, {name: "request_key"}, {name: "clone3"},
		{name: "clone", args: [6]uint64{syscall.CLONE_NEWUSER}}, {name: "personality", args: [6]uint64{8}}, {name: "io_uring_setup"}} {
		if got := run(t, p, c); got != retAllow {
			t.Errorf("%s: %#x, want allowed", c.name, got)
		}
	}
	for _, c := range []call{{name: "setns"}, {name: "io_uring_enter"}, {name: "userfaultfd"}} {
		if got := run(t, p, c); got != retEPERM {
			t.Errorf("%s: %#x, want EPERM", c.name, got)
		}
	}
	p.Deny = []string{"unshare", "clone3"}
	if got := run(t, p, call{name: "unshare"}); got != retEPERM {
		t.Errorf("denied unshare: %#x, want EPERM", got)
	}
	if got := run(t, p, call{name: "clone3"}); got != retNOSYS {
		t.Errorf("denied clone3: %#x, want ENOSYS", got)
	}
}

func TestDenyGroup(t *testing.T) {
	p := Policy{Allow: defaultAllow, Deny: []string{"@network-io"}}
	for _, n := range []string{"socket", "connect", "bind", "sendmsg"} {
		if got := run(t, p, call{name: n}); got != retEPERM {
			t.Errorf("%s: %#x, want EPERM", n, got)
		}
	}
	if got := run(t, p, call{name: "write"}); got != retAllow {
		t.Errorf("write: %#x", got)
	}
}

// TestEveryNumber: the search answers every number as its verdict says,
// the argument-checked calls on both sides of their check.
func TestEveryNumber(t *testing.T) {
	hardened := Policy{Allow: defaultAllow, Families: []int{syscall.AF_UNIX, syscall.AF_INET, syscall.AF_INET6}, DenyWriteExecute: true}
	for _, p := range []Policy{{Allow: defaultAllow}, hardened, {Allow: []string{"@known"}, Action: ActionLog},
		{Allow: []string{"@default", "@basic-io"}, Action: ActionKill}, {Allow: []string{"@basic-io"}, Action: ActionLog},
		{Allow: defaultAllow, Deny: []string{"@network-io", "@file-system"}, Errno: syscall.EACCES}} {
		m, v := vm(t, p), p.verdicts()
		refused, _ := p.refusal()
		for nr := 0; nr < len(v)+100; nr++ {
			x := noSys
			if nr < len(v) {
				x = v[nr]
			}
			for _, c := range expectations(x, uint32(refused)) {
				c.call.nr = uint32(nr)
				if got := answer(t, m, c.call); got != c.want {
					t.Errorf("%v: number %d args %#x: %#x, want %#x", p, nr, c.call.args[0], got, c.want)
				}
			}
		}
	}
	t.Logf("%d instructions for the default policy, %d for @known", progLen(t, Policy{Allow: defaultAllow}), progLen(t, Policy{Allow: []string{"@known"}}))
}

type expectation struct {
	call call
	want uint32
}

func expectations(v verdict, refused uint32) []expectation {
	switch v {
	case refuse:
		return []expectation{{call{}, refused}}
	case allow:
		return []expectation{{call{}, retAllow}}
	case cloneNoNew:
		return []expectation{{call{args: [6]uint64{uint64(syscall.SIGCHLD)}}, retAllow}, {call{args: [6]uint64{syscall.CLONE_NEWPID}}, refused}}
	case personality:
		return []expectation{{call{args: [6]uint64{perLinux}}, retAllow}, {call{args: [6]uint64{0xffffffff}}, refused}}
	case socketChecked:
		return []expectation{{call{args: [6]uint64{syscall.AF_INET}}, retAllow}, {call{args: [6]uint64{syscall.AF_PACKET}}, retEAFNOSUPPORT}}
	case mmapNoWX:
		return []expectation{{call{args: [6]uint64{0, 0, syscall.PROT_READ | syscall.PROT_EXEC}}, retAllow},
			{call{args: [6]uint64{0, 0, syscall.PROT_WRITE | syscall.PROT_EXEC}}, retEPERMFixed}}
	case protNoExec:
		return []expectation{{call{args: [6]uint64{0, 0, syscall.PROT_READ}}, retAllow},
			{call{args: [6]uint64{0, 0, syscall.PROT_EXEC}}, retEPERMFixed}}
	case shmNoExec:
		return []expectation{{call{args: [6]uint64{0, 0, 0}}, retAllow}, {call{args: [6]uint64{0, 0, shmExec}}, retEPERMFixed}}
	}
	return []expectation{{call{}, retNOSYS}}
}

func progLen(t *testing.T, p Policy) int {
	prog, err := p.Build()
	if err != nil {
		t.Fatal(err)
	}
	return len(prog) / 8
}

func TestBuildErrors(t *testing.T) {
	for _, p := range []Policy{{Allow: defaultAllow, Action: "trap"}, {Allow: defaultAllow, Errno: 5000},
		{Allow: []string{"@basic-io"}}, {Allow: defaultAllow, Deny: []string{"execve"}}} {
		if _, err := p.Build(); err == nil {
			t.Errorf("%+v: built", p)
		}
	}
	if _, err := Decode(make([]byte, 12)); err == nil || !strings.Contains(err.Error(), "8 bytes") {
		t.Errorf("Decode of 12 bytes: %v", err)
	}
}

func TestRules(t *testing.T) {
	got := strings.Join(Policy{Allow: defaultAllow}.Rules(), "\n")
	for _, want := range []string{"unshare", "CLONE_NEW", "clone3: ENOSYS", "personality", "x32"} {
		if !strings.Contains(got, want) {
			t.Errorf("rules lack %q:\n%s", want, got)
		}
	}
	lifted := strings.Join(Policy{Allow: []string{ServiceGroup, "@process"}}.Rules(), "\n")
	if strings.Contains(lifted, "clone") || strings.Contains(lifted, "unshare") {
		t.Errorf("@process named, yet:\n%s", lifted)
	}
}

// BenchmarkBuild is the plan's share of the launch cost: the default policy
// compiled to its program.
func BenchmarkBuild(b *testing.B) {
	for b.Loop() {
		if _, err := (Policy{Allow: defaultAllow}).Build(); err != nil {
			b.Fatal(err)
		}
	}
}

// With Landlock's TCP rules, MPTCP sockets, which the rules do not see, get
// EPROTONOSUPPORT; other sockets are untouched.
func TestNoMPTCP(t *testing.T) {
	n, _ := syscallNumber("socket")
	nr := uint32(n)
	p := Policy{Allow: defaultAllow, Action: ActionErrno, NoMPTCP: true}
	m := vm(t, p)
	mptcp := call{nr: nr, args: [6]uint64{syscall.AF_INET, syscall.SOCK_STREAM, 262}}
	tcp := call{nr: nr, args: [6]uint64{syscall.AF_INET, syscall.SOCK_STREAM, 0}}
	if got := answer(t, m, mptcp); got != 0x00050000|uint32(syscall.EPROTONOSUPPORT) {
		t.Errorf("MPTCP socket: %#x", got)
	}
	if got := answer(t, m, tcp); got != 0x7fff0000 {
		t.Errorf("TCP socket: %#x", got)
	}
	if got := run(t, Policy{Allow: defaultAllow, Action: ActionErrno}, mptcp); got != 0x7fff0000 {
		t.Errorf("MPTCP socket without NoMPTCP: %#x", got)
	}
}

// Socket families outside the list get EAFNOSUPPORT, and with NoMPTCP as
// well the protocol is checked after the family.
func TestFamilies(t *testing.T) {
	n, _ := syscallNumber("socket")
	sock := func(family, proto uint64) call {
		return call{nr: uint32(n), args: [6]uint64{family, syscall.SOCK_STREAM, proto}}
	}
	for _, mptcp := range []bool{false, true} {
		p := Policy{Allow: defaultAllow, Families: []int{syscall.AF_UNIX, syscall.AF_INET, syscall.AF_INET6}, NoMPTCP: mptcp}
		m := vm(t, p)
		for _, tc := range []struct {
			c    call
			want uint32
		}{
			{sock(syscall.AF_UNIX, 0), retAllow}, {sock(syscall.AF_INET6, 0), retAllow},
			{sock(syscall.AF_NETLINK, 0), retEAFNOSUPPORT}, {sock(40, 0), retEAFNOSUPPORT}, {sock(38, 0), retEAFNOSUPPORT},
			{sock(1<<32|syscall.AF_INET, 0), retAllow}, // the kernel reads an int
		} {
			if got := answer(t, m, tc.c); got != tc.want {
				t.Errorf("NoMPTCP %v: socket(%#x): %#x, want %#x", mptcp, tc.c.args[0], got, tc.want)
			}
		}
		if n, ok := syscallNumber("socketpair"); ok {
			pair := call{nr: uint32(n), args: [6]uint64{30 /* AF_TIPC */, syscall.SOCK_SEQPACKET}}
			if got := answer(t, m, pair); got != retEAFNOSUPPORT {
				t.Errorf("socketpair(AF_TIPC): %#x", got)
			}
			pair.args[0] = syscall.AF_UNIX
			if got := answer(t, m, pair); got != retAllow {
				t.Errorf("socketpair(AF_UNIX): %#x", got)
			}
		}
		want := retAllow
		if mptcp {
			want = 0x00050000 | uint32(syscall.EPROTONOSUPPORT)
		}
		if got := answer(t, m, sock(syscall.AF_INET, 262)); got != want {
			t.Errorf("NoMPTCP %v: MPTCP socket: %#x, want %#x", mptcp, got, want)
		}
	}
}

// W^X: writable and executable memory is refused with EPERM whatever the
// action, as MemoryDenyWriteExecute= does; without DenyWriteExecute it is not.
func TestDenyWriteExecute(t *testing.T) {
	on := vm(t, Policy{Allow: defaultAllow, Action: ActionKill, DenyWriteExecute: true})
	off := vm(t, Policy{Allow: defaultAllow})
	wx := uint64(syscall.PROT_READ | syscall.PROT_WRITE | syscall.PROT_EXEC)
	for _, tc := range []struct {
		c       call
		on, off uint32
	}{
		{call{name: "mmap", args: [6]uint64{0, 4096, wx}}, retEPERM, retAllow},
		{call{name: "mmap", args: [6]uint64{0, 4096, syscall.PROT_READ | syscall.PROT_WRITE}}, retAllow, retAllow},
		{call{name: "mmap", args: [6]uint64{0, 4096, syscall.PROT_READ | syscall.PROT_EXEC}}, retAllow, retAllow},
		{call{name: "mprotect", args: [6]uint64{0, 4096, syscall.PROT_READ | syscall.PROT_EXEC}}, retEPERM, retAllow},
		{call{name: "mprotect", args: [6]uint64{0, 4096, syscall.PROT_READ}}, retAllow, retAllow},
		{call{name: "shmat", args: [6]uint64{0, 0, shmExec}}, retEPERM, retAllow},
		{call{name: "shmat", args: [6]uint64{0, 0, 0}}, retAllow, retAllow},
	} {
		if got := answer(t, on, tc.c); got != tc.on {
			t.Errorf("on: %s %#x: %#x, want %#x", tc.c.name, tc.c.args[2], got, tc.on)
		}
		if got := answer(t, off, tc.c); got != tc.off {
			t.Errorf("off: %s %#x: %#x, want %#x", tc.c.name, tc.c.args[2], got, tc.off)
		}
	}
}

// The kept verdicts serve only a policy with the same fields: a changed
// list, even changed in place, or Families empty instead of nil, is
// resolved anew.
func TestVerdictsKept(t *testing.T) {
	allow := []string{"@system-service"}
	p := Policy{Allow: allow}
	if !slices.Equal(p.verdicts(), p.resolve()) || !slices.Equal(p.verdicts(), p.resolve()) {
		t.Fatal("kept verdicts differ")
	}
	allow[0] = "@basic-io"
	if !slices.Equal(p.verdicts(), p.resolve()) {
		t.Error("a list changed in place kept the old verdicts")
	}
	p = Policy{Allow: []string{"@system-service"}}
	q := Policy{Allow: []string{"@system-service"}, Families: []int{}}
	if !slices.Equal(q.verdicts(), q.resolve()) || slices.Equal(q.verdicts(), p.verdicts()) {
		t.Error("empty Families took nil's verdicts")
	}
	for _, r := range []Policy{{Allow: allow, Deny: []string{"read"}}, {Allow: allow, DenyWriteExecute: true}, {Allow: allow, NoMPTCP: true}} {
		if !slices.Equal(r.verdicts(), r.resolve()) {
			t.Errorf("%+v: kept verdicts", r)
		}
	}
}
