package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Action is what a known system call that the policy does not allow gets.
type Action string

// The actions, as the spec names them.
const (
	ActionErrno Action = "errno" // fails with Policy.Errno
	ActionKill  Action = "kill"  // SECCOMP_RET_KILL_PROCESS: the whole process dies of SIGSYS
	ActionLog   Action = "log"   // SECCOMP_RET_LOG: allowed, and logged by the kernel
)

// ServiceGroup is systemd's group for ordinary services. Reaching a call
// through it alone does not lift a baseline rule; naming the call, or any
// other group that has it, does.
const ServiceGroup = "@system-service"

// Policy is what the filter allows.
type Policy struct {
	Allow  []string // groups and system calls; the caller supplies the default
	Deny   []string // taken out of Allow, baseline lifts included
	Action Action
	Errno  syscall.Errno // for ActionErrno; 0 means EPERM
	// NoMPTCP refuses socket() for IPPROTO_MPTCP with EPROTONOSUPPORT, as a
	// kernel without MPTCP answers, so that programs fall back to TCP:
	// Landlock's TCP rules do not see MPTCP sockets.
	NoMPTCP bool
	// Families, when not nil, are the only address families socket() and
	// socketpair() may create; any other gets EAFNOSUPPORT, as from a kernel built without
	// it (systemd's RestrictAddressFamilies=).
	Families []int
	// DenyWriteExecute refuses memory that is both writable and executable,
	// as systemd's MemoryDenyWriteExecute= does: mmap with PROT_WRITE and
	// PROT_EXEC, mprotect and pkey_mprotect with PROT_EXEC, shmat with
	// SHM_EXEC, each with EPERM. A filter sees arguments, not mappings, so
	// mprotect cannot tell a JIT's page from a library's: any PROT_EXEC
	// there is refused, which the dynamic loader does not need.
	DenyWriteExecute bool
}

// The baseline: refused unless named in Allow (see ServiceGroup), as Docker's
// default profile and systemd's RestrictNamespaces= and LockPersonality= do.
var baselineRefused = []string{
	"io_uring_setup", "io_uring_enter", "io_uring_register", // the leading source of kernel exploits
	"userfaultfd",                      // stalls kernel accesses at will, a race-widening tool
	"keyctl", "add_key", "request_key", // keyrings are not namespaced
	"unshare", "setns", // namespaces: a new user namespace hands out every capability
	// NUMA memory policy, which Docker's profile leaves to CAP_SYS_NICE: one
	// process's placement can starve another's node.
	"get_mempolicy", "set_mempolicy", "set_mempolicy_home_node", "mbind", "migrate_pages", "move_pages",
	"kcmp",            // compares kernel pointers of other processes' files: an address-leak oracle
	"process_madvise", // acts on another process's memory
}

// BaselineRefused lists the calls the baseline refuses, so that a filter
// translated from another engine's terms, which spell them out, need not.
func BaselineRefused() []string {
	return append([]string(nil), baselineRefused...)
}

const (
	// cloneNewFlags are the CLONE_NEW* flags clone can take: NEWNS, NEWCGROUP,
	// NEWUTS, NEWIPC, NEWUSER, NEWPID and NEWNET.
	cloneNewFlags = syscall.CLONE_NEWNS | 0x02000000 | syscall.CLONE_NEWUTS | syscall.CLONE_NEWIPC |
		syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNET
	// cloneFlagsArg is the argument that holds clone's flags: the first on
	// x86_64, and on arm64 too, whose CLONE_BACKWARDS swaps only the last
	// two (tls and child_tid). s390's CLONE_BACKWARDS2 would differ, but
	// the library has no table for it, so no filter is built there.
	cloneFlagsArg = 0
	// socketFamilyArg and socketProtocolArg are socket's first and third
	// arguments.
	socketFamilyArg   = 0
	socketProtocolArg = 2
	// protArg is the protection of mmap, mprotect and pkey_mprotect, and
	// shmat's flags: the third argument of each.
	protArg  = 2
	shmExec  = 0o100000 // SHM_EXEC
	writeExe = unix.PROT_WRITE | unix.PROT_EXEC
	// perLinux is the one personality LockPersonality=yes lets through,
	// the default persona; the 0xffffffff query is refused with it.
	perLinux = 0
	// x32Bit marks an x32 call's number on x86_64.
	x32Bit = 0x40000000
	// maxInstructions is the kernel's BPF_MAXINSNS.
	maxInstructions = 4096
)

// refusal is the return value the action gives a refused call.
func (p Policy) refusal() (uint32, error) {
	switch p.Action {
	case ActionErrno, "":
		e := p.Errno
		if e == 0 {
			e = syscall.EPERM
		}
		if e > 4095 {
			return 0, fmt.Errorf("errno %d is above the kernel's MAX_ERRNO (4095)", int(e))
		}
		return unix.SECCOMP_RET_ERRNO | uint32(e), nil
	case ActionKill:
		return unix.SECCOMP_RET_KILL_PROCESS, nil
	case ActionLog:
		return unix.SECCOMP_RET_LOG, nil
	}
	return 0, fmt.Errorf("unknown action %q", p.Action)
}

// verdict is what the filter does with one system call number.
type verdict uint8

const (
	noSys         verdict = iota // not in the table, or clone3: ENOSYS
	refuse                       // the action
	allow                        // whatever the arguments
	cloneNoNew                   // allowed without a CLONE_NEW* flag
	personality                  // allowed for perLinux only
	socketChecked                // allowed for Families, and but for IPPROTO_MPTCP under NoMPTCP
	mmapNoWX                     // allowed unless both PROT_WRITE and PROT_EXEC
	protNoExec                   // allowed without PROT_EXEC
	shmNoExec                    // allowed without SHM_EXEC
)

// Flags of a number in verdicts: what the policy's lists say of it.
const (
	inAllow    = 1 << iota
	inExplicit // named in allow other than through ServiceGroup
	inDeny
)

// verdicts is p resolved against the running architecture's table (resolve),
// for reading only. The last policy resolved is kept with its verdicts: a
// plan asks of one policy three times (the filter, and which calls PID 1's
// fork and the one-image thread may make), and each resolution walks every
// group the policy names, a tenth of a millisecond on the launch's path.
func (p Policy) verdicts() []verdict {
	if last := lastResolved.Load(); last != nil && last.p.same(p) {
		return last.v
	}
	v := p.resolve()
	lastResolved.Store(&resolved{p: p.clone(), v: v})
	return v
}

// resolved is a policy, its slices its own, with its verdicts.
type resolved struct {
	p Policy
	v []verdict
}

var lastResolved atomic.Pointer[resolved]

// same says whether p and q have the same fields, element by element.
func (p Policy) same(q Policy) bool {
	return slices.Equal(p.Allow, q.Allow) && slices.Equal(p.Deny, q.Deny) && p.Action == q.Action &&
		p.Errno == q.Errno && p.NoMPTCP == q.NoMPTCP && (p.Families == nil) == (q.Families == nil) &&
		slices.Equal(p.Families, q.Families) && p.DenyWriteExecute == q.DenyWriteExecute
}

// clone copies p's slices, which the caller may change after.
func (p Policy) clone() Policy {
	p.Allow, p.Deny, p.Families = slices.Clone(p.Allow), slices.Clone(p.Deny), slices.Clone(p.Families)
	return p
}

// resolve gives one verdict per system call number, from 0 to the table's
// highest. The lists are marked in one slice by number, not in maps of
// names: a launch builds this once, cold, and pays for every allocation.
func (p Policy) resolve() []verdict {
	flags := make([]uint8, maxNumber()+1)
	mark(flags, inAllow, p.Allow...)
	for _, name := range p.Allow {
		if name != ServiceGroup {
			mark(flags, inExplicit, name)
		}
	}
	mark(flags, inDeny, p.Deny...)
	v := make([]verdict, len(flags))
	for nr, name := range syscallNames {
		if name == "" {
			continue
		}
		v[nr] = refuse
		if flags[nr]&(inAllow|inDeny) == inAllow {
			v[nr] = allow
		}
	}
	// narrow lowers an allowed call that is not named explicitly.
	narrow := func(name string, to verdict) {
		if nr, ok := syscallNumber(name); ok && v[nr] == allow && flags[nr]&inExplicit == 0 {
			v[nr] = to
		}
	}
	for _, name := range baselineRefused {
		narrow(name, refuse)
	}
	narrow("clone", cloneNoNew)
	narrow("personality", personality)
	if p.NoMPTCP || p.Families != nil {
		narrowed(v, "socket", socketChecked)
	}
	if p.Families != nil { // AF_TIPC, for one, makes socket pairs too
		narrowed(v, "socketpair", socketChecked)
	}
	if p.DenyWriteExecute {
		narrowed(v, "mmap", mmapNoWX)
		narrowed(v, "mprotect", protNoExec)
		narrowed(v, "pkey_mprotect", protNoExec)
		narrowed(v, "shmat", shmNoExec)
	}
	if nr, ok := syscallNumber("clone3"); ok && (v[nr] != allow || flags[nr]&inExplicit == 0) {
		v[nr] = noSys // whatever else: libc falls back to clone only on ENOSYS
	}
	return v
}

// narrowed lowers an allowed call to a check of its arguments, named in
// allow or not: these rules are lifted by their own keys.
func narrowed(v []verdict, name string, to verdict) {
	if nr, ok := syscallNumber(name); ok && v[nr] == allow {
		v[nr] = to
	}
}

// mark sets flag on the numbers of the calls names reach, groups expanded;
// calls the running architecture lacks are skipped.
func mark(flags []uint8, flag uint8, names ...string) {
	for _, name := range names {
		if i, ok := groupIndex(name); ok {
			if i < len(groupNumbers) { // none without a table, where no name has a number either
				for _, nr := range groupNumbers[i] { // generated: expanded, and this arch's
					flags[nr] |= flag
				}
			}
			continue
		}
		if nr, ok := syscallNumber(name); ok {
			flags[nr] |= flag
		}
	}
}

func maxNumber() int { return len(syscallNames) - 1 }

// span is a run of consecutive numbers with one verdict, from lo up to the
// next span's lo; the last runs to the end of the number space.
type span struct {
	lo int
	v  verdict
}

func spans(v []verdict) []span {
	n := 1 // the end of the table, or a span of ENOSYS running on from it
	for nr := 1; nr < len(v); nr++ {
		if v[nr] != v[nr-1] {
			n++
		}
	}
	out := make([]span, 0, n+1) // one allocation: a cold launch pays for each
	for nr, x := range v {
		if nr == 0 || x != v[nr-1] {
			out = append(out, span{nr, x})
		}
	}
	if out[len(out)-1].v != noSys {
		out = append(out, span{len(v), noSys})
	}
	return out
}

// The program. go-seccomp-bpf's Policy compares the number with each listed
// call in turn (400 instructions for @system-service, which the kernel
// walks for every number when it builds its per-number cache at load),
// resolves its long jumps in O(n^2), loads an argument over the number and
// compares that with the next calls, and its Validate refuses errno|ENOSYS
// as the default action. Its Program assembler allocates an interface per
// instruction and a map of labels, which a cold launch pays for page by page.
// So the program is written here, straight into sock_filter entries, from
// the library's arch tables: a fixed header, then a binary search over the
// spans of equal verdict. What each cost a launch: docs/design.md, "The
// system call filter".

// enosys is what unknown numbers, clone3 and the other ABIs get, so that
// libc falls back where it can.
const enosys = unix.SECCOMP_RET_ERRNO | uint32(syscall.ENOSYS)

// Offsets in struct seccomp_data, and its arguments' low halves.
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

func argLow(i int) uint32 {
	off := uint32(offArgs + 8*i)
	if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 { // big-endian: the low half is second
		off += 4
	}
	return off
}

// program is a filter being written.
type program struct {
	insts    []unix.SockFilter
	refused  uint32
	families []int // socket's allowed families; nil: any
	noMPTCP  bool
}

func (p *program) op(code uint16, jt, jf uint8, k uint32) {
	p.insts = append(p.insts, unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k})
}

func (p *program) load(off uint32) { p.op(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, 0, 0, off) }
func (p *program) ret(v uint32)    { p.op(unix.BPF_RET|unix.BPF_K, 0, 0, v) }
func (p *program) jump(test uint16, k uint32, jt, jf uint8) {
	p.op(unix.BPF_JMP|test|unix.BPF_K, jt, jf, k)
}

// header checks the audit arch and, on x86_64, the x32 bit: any other ABI
// gets ENOSYS, as from a kernel built without it. The kill action does not
// change that: a refused ABI is never a call the daemon was built to make.
func (p *program) header() {
	p.load(offArch)
	p.jump(unix.BPF_JEQ, auditArch, 1, 0)
	p.ret(uint32(enosys))
	p.load(offNr)
	if hasX32 {
		p.jump(unix.BPF_JGE, x32Bit, 0, 1)
		p.ret(uint32(enosys))
	}
}

// leafSize is the length of a leaf, in instructions, as leaf writes it.
func (p *program) leafSize(v verdict) int {
	switch v {
	case cloneNoNew, personality, protNoExec, shmNoExec:
		return 4
	case mmapNoWX:
		return 5
	case socketChecked:
		return p.socketSize()
	}
	return 1
}

// size is the length of the search over s, as tree writes it.
func (p *program) size(s []span) int {
	if len(s) == 1 {
		return p.leafSize(s[0].v)
	}
	left := p.size(s[:len(s)/2])
	n := 1 + left + p.size(s[len(s)/2:])
	if left > 255 { // beyond a conditional jump's reach: add a JA
		n++
	}
	return n
}

// tree writes the search over s; the number is in the accumulator. Each
// node sends numbers from its upper half's first onwards past the lower.
func (p *program) tree(s []span) {
	if len(s) == 1 {
		p.leaf(s[0].v)
		return
	}
	lower, upper := s[:len(s)/2], s[len(s)/2:]
	if n := p.size(lower); n <= 255 {
		p.jump(unix.BPF_JGE, uint32(upper[0].lo), uint8(n), 0)
	} else {
		p.jump(unix.BPF_JGE, uint32(upper[0].lo), 0, 1)
		p.op(unix.BPF_JMP|unix.BPF_JA, 0, 0, uint32(n))
	}
	p.tree(lower)
	p.tree(upper)
}

// leaf returns a verdict. The argument checks read the argument's low half,
// all the kernel reads of these calls' arguments.
func (p *program) leaf(v verdict) {
	ok := uint32(unix.SECCOMP_RET_ALLOW)
	switch v {
	case noSys:
		p.ret(uint32(enosys))
	case refuse:
		p.ret(p.refused)
	case allow:
		p.ret(ok)
	case cloneNoNew:
		p.load(argLow(cloneFlagsArg))
		p.jump(unix.BPF_JSET, cloneNewFlags, 1, 0)
		p.ret(ok)
		p.ret(p.refused)
	case personality:
		p.load(argLow(0))
		p.jump(unix.BPF_JEQ, perLinux, 0, 1)
		p.ret(ok)
		p.ret(p.refused)
	case socketChecked:
		p.socket()
	case mmapNoWX:
		p.load(argLow(protArg))
		p.op(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, 0, 0, writeExe)
		p.jump(unix.BPF_JEQ, writeExe, 1, 0)
		p.ret(ok)
		p.ret(errnoRet(unix.EPERM))
	case protNoExec, shmNoExec:
		bit := uint32(unix.PROT_EXEC)
		if v == shmNoExec {
			bit = shmExec
		}
		p.load(argLow(protArg))
		p.jump(unix.BPF_JSET, bit, 1, 0)
		p.ret(ok)
		p.ret(errnoRet(unix.EPERM))
	}
}

func errnoRet(e syscall.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(e) }

// socketSize is the length of socket's leaf.
func (p *program) socketSize() int {
	n := 1 // the protocol check's tail, or the allow
	if p.noMPTCP {
		n = 4
	}
	if p.families != nil {
		n += 2 + len(p.families)
	}
	return n
}

// socket writes socket's leaf: a family outside the list gets EAFNOSUPPORT,
// then, under NoMPTCP, IPPROTO_MPTCP gets EPROTONOSUPPORT.
func (p *program) socket() {
	if p.families != nil {
		p.load(argLow(socketFamilyArg))
		for i, f := range p.families {
			p.jump(unix.BPF_JEQ, uint32(f), uint8(len(p.families)-i), 0)
		}
		p.ret(errnoRet(unix.EAFNOSUPPORT))
	}
	if p.noMPTCP {
		p.load(argLow(socketProtocolArg))
		p.jump(unix.BPF_JEQ, unix.IPPROTO_MPTCP, 0, 1)
		p.ret(errnoRet(unix.EPROTONOSUPPORT))
	}
	p.ret(uint32(unix.SECCOMP_RET_ALLOW))
}

// Build returns the BPF program for p on the running architecture: struct
// sock_filter entries, 8 bytes each, in native byte order, ready for Load.
func (p Policy) Build() ([]byte, error) {
	if !hasTable() {
		return nil, fmt.Errorf("no system call table for %s", runtime.GOARCH)
	}
	refused, err := p.refusal()
	if err != nil {
		return nil, err
	}
	v := p.verdicts()
	if nr, ok := syscallNumber("execve"); ok && v[nr] != allow && p.Action != ActionLog {
		return nil, errors.New("execve is not allowed, and the filter is installed before the daemon's exec")
	}
	if len(p.Families) > 200 {
		return nil, fmt.Errorf("%d address families: a jump reaches 255 instructions", len(p.Families))
	}
	s := spans(v)
	prog := program{refused: refused, families: p.Families, noMPTCP: p.NoMPTCP}
	prog.insts = make([]unix.SockFilter, 0, 6+prog.size(s))
	prog.header()
	prog.tree(s)
	if len(prog.insts) > maxInstructions {
		return nil, fmt.Errorf("the filter has %d instructions, over the kernel's %d", len(prog.insts), maxInstructions)
	}
	return encode(prog.insts), nil
}

func encode(insts []unix.SockFilter) []byte {
	out := make([]byte, 0, 8*len(insts))
	for _, in := range insts {
		out = binary.NativeEndian.AppendUint16(out, in.Code)
		out = append(out, in.Jt, in.Jf)
		out = binary.NativeEndian.AppendUint32(out, in.K)
	}
	return out
}

// Decode turns a program from Build back into sock_filter entries.
func Decode(prog []byte) ([]unix.SockFilter, error) {
	if len(prog) == 0 || len(prog)%8 != 0 || len(prog)/8 > maxInstructions {
		return nil, errors.New("a filter program is 1 to 4096 entries of 8 bytes")
	}
	raw := make([]unix.SockFilter, len(prog)/8)
	for i := range raw {
		b := prog[8*i:]
		raw[i] = unix.SockFilter{Code: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	}
	return raw, nil
}

// Rules describes, for explain, the baseline rules p leaves in force and what
// unknown calls and other ABIs get.
func (p Policy) Rules() []string {
	v := p.verdicts()
	is := func(name string, want verdict) bool {
		nr, ok := syscallNumber(name)
		return ok && v[nr] == want
	}
	var refused []string
	for _, n := range baselineRefused {
		if !is(n, allow) {
			refused = append(refused, n)
		}
	}
	var out []string
	if len(refused) > 0 {
		out = append(out, "refused unless named in allow: "+strings.Join(refused, " "))
	}
	if is("clone", cloneNoNew) {
		out = append(out, "clone: refused with any CLONE_NEW* flag")
	}
	if is("clone3", noSys) {
		out = append(out, "clone3: ENOSYS, so that libc falls back to clone")
	}
	if is("personality", personality) {
		out = append(out, "personality: only PER_LINUX (0); other personas and the query are refused")
	}
	if is("socket", socketChecked) && p.Families != nil {
		out = append(out, "socket, socketpair: address families "+FamilyNames(p.Families)+" only; others get EAFNOSUPPORT")
	}
	if is("socket", socketChecked) && p.NoMPTCP {
		out = append(out, "socket: IPPROTO_MPTCP gets EPROTONOSUPPORT, since Landlock's TCP rules do not see it")
	}
	if is("mmap", mmapNoWX) {
		out = append(out, "memory both writable and executable: refused (EPERM), as MemoryDenyWriteExecute=yes")
	}
	return append(out, "unknown system call numbers, the x32 and foreign ABIs: ENOSYS")
}
