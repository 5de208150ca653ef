package seccomp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"syscall"

	libseccomp "github.com/elastic/go-seccomp-bpf"
	"golang.org/x/net/bpf"
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
}

// The baseline: refused unless named in Allow (see ServiceGroup), as Docker's
// default profile and systemd's RestrictNamespaces= and LockPersonality= do.
var baselineRefused = []string{
	"io_uring_setup", "io_uring_enter", "io_uring_register", // the leading source of kernel exploits
	"userfaultfd",                      // stalls kernel accesses at will, a race-widening tool
	"keyctl", "add_key", "request_key", // keyrings are not namespaced
	"unshare", "setns", // namespaces: a new user namespace hands out every capability
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
	// perLinux and perQuery are the personality values LockPersonality=yes
	// lets through: the default persona, and 0xffffffff, which only reads.
	perLinux = 0
	perQuery = 0xffffffff
	// maxInstructions is the kernel's BPF_MAXINSNS.
	maxInstructions = 4096
)

// decision is a policy resolved against the running architecture's table.
type decision struct {
	allow       []string // allowed whatever the arguments
	checkClone  bool     // clone is allowed, but not with a CLONE_NEW* flag
	personality bool     // personality is allowed for perLinux and perQuery only
	clone3      bool     // clone3 gets ENOSYS, so that libc falls back to clone
	refuse      []string // known calls that get the action
}

func (p Policy) decide() decision {
	allowed, explicit, denied := map[string]bool{}, map[string]bool{}, map[string]bool{}
	expand(allowed, p.Allow)
	for _, n := range p.Allow {
		if n != ServiceGroup {
			expand(explicit, []string{n})
		}
	}
	expand(denied, p.Deny)
	for n := range denied {
		delete(allowed, n)
	}
	for _, n := range baselineRefused {
		if !explicit[n] {
			delete(allowed, n)
		}
	}
	var d decision
	d.clone3 = !(allowed["clone3"] && explicit["clone3"])
	d.personality = allowed["personality"] && !explicit["personality"]
	d.checkClone = allowed["clone"] && !explicit["clone"]
	if d.clone3 {
		delete(allowed, "clone3")
	}
	if d.personality {
		delete(allowed, "personality")
	}
	for _, n := range sortedSet(nativeNames()) {
		switch {
		case allowed[n]:
			d.allow = append(d.allow, n)
		case n == "clone3" && d.clone3: // a group of its own
		default:
			d.refuse = append(d.refuse, n)
		}
	}
	return d
}

func nativeNames() map[string]bool {
	set := map[string]bool{}
	for n := range native.SyscallNames {
		set[n] = true
	}
	return set
}

// refusal is the return value the action gives a refused call.
func (p Policy) refusal() (libseccomp.Action, error) {
	switch p.Action {
	case ActionErrno, "":
		e := p.Errno
		if e == 0 {
			e = syscall.EPERM
		}
		if e > 4095 {
			return 0, fmt.Errorf("errno %d is above the kernel's MAX_ERRNO (4095)", int(e))
		}
		return libseccomp.ActionErrno | libseccomp.Action(e), nil
	case ActionKill:
		return libseccomp.ActionKillProcess, nil
	case ActionLog:
		return libseccomp.ActionLog, nil
	}
	return 0, fmt.Errorf("unknown action %q", p.Action)
}

// enosys is what unknown numbers, clone3, and the x32 and foreign ABIs get:
// what a kernel without the call, or built without the compat ABI, returns,
// so that libc falls back where it can. The kill action does not change it:
// a refused ABI is never a call the daemon was built to make.
const enosys = libseccomp.ActionErrno | libseccomp.Action(syscall.ENOSYS)

// placeholder stands for enosys as a library policy's DefaultAction, which
// its Validate accepts only from its list of bare actions, and errno|ENOSYS
// is not one. No group of ours returns ActionTrap, so every return of it in
// the last segment (its last instruction, where a foreign audit arch jumps
// too, and any copy the assembler made for a long jump) becomes enosys.
const placeholder = libseccomp.ActionTrap

// segments are library policies run one after the other. The library loads
// an argument into the accumulator to check it and never reloads the
// system call number, so a group after an argument-checked call would
// compare the argument with call numbers. Each argument-checked group is
// therefore last in its segment, and a segment's fall-through (its
// placeholder return, dropped) is the next segment's start, whose header
// loads the arch and the number again.
func (d decision) segments(refuse libseccomp.Action) [][]libseccomp.SyscallGroup {
	var segs [][]libseccomp.SyscallGroup
	var first []libseccomp.SyscallGroup
	if d.clone3 {
		first = append(first, libseccomp.SyscallGroup{Names: []string{"clone3"}, Action: enosys})
	}
	if d.checkClone {
		newNS := libseccomp.NameWithConditions{Name: "clone", Conditions: libseccomp.ArgumentConditions{
			{Argument: cloneFlagsArg, Operation: libseccomp.BitsSet, Value: cloneNewFlags}}}
		first = append(first, libseccomp.SyscallGroup{NamesWithCondtions: []libseccomp.NameWithConditions{newNS}, Action: refuse})
	}
	if len(first) > 0 {
		segs = append(segs, first)
	}
	if d.personality {
		segs = append(segs, []libseccomp.SyscallGroup{{Action: libseccomp.ActionAllow,
			NamesWithCondtions: []libseccomp.NameWithConditions{personalityIs(perLinux), personalityIs(perQuery)}}})
	}
	return append(segs, []libseccomp.SyscallGroup{
		{Names: d.allow, Action: libseccomp.ActionAllow},
		{Names: d.refuse, Action: refuse},
	})
}

func personalityIs(v uint64) libseccomp.NameWithConditions {
	return libseccomp.NameWithConditions{Name: "personality", Conditions: libseccomp.ArgumentConditions{
		{Argument: 0, Operation: libseccomp.Equal, Value: v}}}
}

// Build returns the BPF program for p on the running architecture: struct
// sock_filter entries, 8 bytes each, in native byte order, ready for Load.
func (p Policy) Build() ([]byte, error) {
	if native == nil {
		return nil, fmt.Errorf("no system call table for %s", runtime.GOARCH)
	}
	refuse, err := p.refusal()
	if err != nil {
		return nil, err
	}
	var prog []bpf.Instruction
	segs := p.decide().segments(refuse)
	for i, groups := range segs {
		lp := libseccomp.Policy{DefaultAction: placeholder, Syscalls: groups}
		insts, err := lp.Assemble()
		if err != nil {
			return nil, err
		}
		if insts, err = settle(insts, i == len(segs)-1); err != nil {
			return nil, err
		}
		prog = append(prog, insts...)
	}
	if len(prog) > maxInstructions {
		return nil, fmt.Errorf("the filter has %d instructions, over the kernel's %d", len(prog), maxInstructions)
	}
	return encode(prog)
}

// settle replaces a segment's placeholder returns: with enosys in the last
// segment; in any other, the last instruction is dropped so that it falls
// through to the next segment, and a copy elsewhere (which a long jump
// would need) is refused, since it cannot fall through.
func settle(insts []bpf.Instruction, last bool) ([]bpf.Instruction, error) {
	for i, in := range insts {
		r, ok := in.(bpf.RetConstant)
		switch {
		case !ok || r.Val != uint32(placeholder):
		case last:
			insts[i] = bpf.RetConstant{Val: uint32(enosys)}
		case i != len(insts)-1:
			return nil, fmt.Errorf("a filter segment's fall-through at %d of %d instructions", i, len(insts))
		}
	}
	if !last {
		if r, ok := insts[len(insts)-1].(bpf.RetConstant); !ok || r.Val != uint32(placeholder) {
			return nil, errors.New("a filter segment does not end with its default return")
		}
		insts = insts[:len(insts)-1]
	}
	return insts, nil
}

func encode(insts []bpf.Instruction) ([]byte, error) {
	raw, err := bpf.Assemble(insts)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 8*len(raw))
	for _, r := range raw {
		out = binary.NativeEndian.AppendUint16(out, r.Op)
		out = append(out, r.Jt, r.Jf)
		out = binary.NativeEndian.AppendUint32(out, r.K)
	}
	return out, nil
}

// Decode turns a program from Build back into raw instructions.
func Decode(prog []byte) ([]bpf.RawInstruction, error) {
	if len(prog) == 0 || len(prog)%8 != 0 || len(prog)/8 > maxInstructions {
		return nil, errors.New("a filter program is 1 to 4096 entries of 8 bytes")
	}
	raw := make([]bpf.RawInstruction, len(prog)/8)
	for i := range raw {
		b := prog[8*i:]
		raw[i] = bpf.RawInstruction{Op: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	}
	return raw, nil
}

// Rules describes, for explain, the baseline rules p leaves in force and what
// unknown calls and other ABIs get.
func (p Policy) Rules() []string {
	d := p.decide()
	allowed := map[string]bool{}
	for _, n := range d.allow {
		allowed[n] = true
	}
	var refused []string
	for _, n := range baselineRefused {
		if !allowed[n] {
			refused = append(refused, n)
		}
	}
	var out []string
	if len(refused) > 0 {
		out = append(out, "refused unless named in allow: "+strings.Join(refused, " "))
	}
	if d.checkClone {
		out = append(out, "clone: refused with any CLONE_NEW* flag")
	}
	if d.clone3 {
		out = append(out, "clone3: ENOSYS, so that libc falls back to clone")
	}
	if d.personality {
		out = append(out, "personality: only PER_LINUX (0) and the query (0xffffffff)")
	}
	return append(out, "unknown system call numbers, the x32 and foreign ABIs: ENOSYS")
}
