package export

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// A filter program is read by running it: the number and the arch are
// known, and an argument, once loaded, is a value unknown but for the
// tests the path took. Each jump on an argument forks the run; each
// return ends a path. Only what a filter of daemonbox's shape uses is
// read (loads of seccomp_data's words, AND with a constant, conditional
// and unconditional jumps, returns); anything else is an error.

// cmpOp is one test of an argument's low 32 bits, as the filter reads
// them.
type cmpOp uint8

const (
	opEq cmpOp = iota // (arg & mask) == k
	opNe              // (arg & mask) != k
	opGt              // arg > k
	opGe              // arg >= k
	opLe              // arg <= k
	opLt              // arg < k
)

type argCond struct {
	arg     int
	op      cmpOp
	mask, k uint32
}

func (c argCond) holds(v uint32) bool {
	switch c.op {
	case opEq:
		return v&c.mask == c.k
	case opNe:
		return v&c.mask != c.k
	case opGt:
		return v > c.k
	case opGe:
		return v >= c.k
	case opLe:
		return v <= c.k
	}
	return v < c.k
}

// bpfPath is one way through the program: the tests it passed and what
// it returns.
type bpfPath struct {
	conds []argCond
	ret   uint32
}

// accum is the accumulator: a known value, or an argument's low half
// ANDed with mask.
type accum struct {
	known bool
	v     uint32
	arg   int
	mask  uint32
}

const maxPaths = 4096

// runFilter returns every path of prog for a call of number nr and arch.
func runFilter(prog []unix.SockFilter, arch, nr uint32) ([]bpfPath, error) {
	var out []bpfPath
	var walk func(pc int, a accum, conds []argCond) error
	walk = func(pc int, a accum, conds []argCond) error {
		for ; pc < len(prog); pc++ {
			in := prog[pc]
			switch in.Code {
			case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
				var err error
				if a, err = loadWord(in.K, arch, nr); err != nil {
					return fmt.Errorf("instruction %d: %v", pc, err)
				}
				continue
			case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
				a.v &= in.K
				a.mask &= in.K
				continue
			case unix.BPF_JMP | unix.BPF_JA:
				pc += int(in.K)
				continue
			case unix.BPF_RET | unix.BPF_K:
				if len(out) >= maxPaths {
					return fmt.Errorf("more than %d paths", maxPaths)
				}
				out = append(out, bpfPath{conds: conds, ret: in.K})
				return nil
			}
			if in.Code&0x07 != unix.BPF_JMP || in.Code&0x08 != unix.BPF_K {
				return fmt.Errorf("instruction %d (code %#x) is not one the export reads", pc, in.Code)
			}
			if a.known {
				if jumpTaken(in.Code&0xf0, a.v, in.K) {
					pc += int(in.Jt)
				} else {
					pc += int(in.Jf)
				}
				continue
			}
			yes, no, err := branchConds(in.Code&0xf0, a, in.K)
			if err != nil {
				return fmt.Errorf("instruction %d: %v", pc, err)
			}
			if err := walk(pc+1+int(in.Jt), a, appendCond(conds, yes)); err != nil {
				return err
			}
			return walk(pc+1+int(in.Jf), a, appendCond(conds, no))
		}
		return fmt.Errorf("the program runs off its end")
	}
	return out, walk(0, accum{known: true}, nil)
}

func appendCond(conds []argCond, c argCond) []argCond {
	return append(append([]argCond(nil), conds...), c)
}

// loadWord loads a word of struct seccomp_data: the number, the arch, or
// an argument's low half.
func loadWord(off, arch, nr uint32) (accum, error) {
	switch off {
	case 0:
		return accum{known: true, v: nr}, nil
	case 4:
		return accum{known: true, v: arch}, nil
	}
	low := uint32(0)
	if binary.NativeEndian.Uint16([]byte{0, 1}) == 1 {
		low = 4 // big-endian: the low half is the second word
	}
	if off >= 16 && off < 64 && (off-16)%8 == low {
		return accum{arg: int(off-16) / 8, mask: 0xffffffff}, nil
	}
	return accum{}, fmt.Errorf("a load of seccomp_data offset %d, which the export does not read", off)
}

func jumpTaken(test uint16, a, k uint32) bool {
	switch test {
	case unix.BPF_JEQ:
		return a == k
	case unix.BPF_JGT:
		return a > k
	case unix.BPF_JGE:
		return a >= k
	}
	return a&k != 0 // BPF_JSET
}

// branchConds are the tests a jump on an argument adds to its two branches.
func branchConds(test uint16, a accum, k uint32) (yes, no argCond, err error) {
	c := argCond{arg: a.arg, mask: a.mask}
	full := a.mask == 0xffffffff
	switch {
	case test == unix.BPF_JEQ:
		yes, no = c, c
		yes.op, yes.k, no.op, no.k = opEq, k&a.mask, opNe, k&a.mask
		if k&^a.mask != 0 { // never equal: (v & 0) != 0 never holds, (v & 0) == 0 always
			yes.op, yes.mask, yes.k = opNe, 0, 0
			no.op, no.mask, no.k = opEq, 0, 0
		}
	case test == unix.BPF_JSET:
		yes, no = c, c
		yes.mask, no.mask = a.mask&k, a.mask&k
		yes.op, no.op = opNe, opEq
	case test == unix.BPF_JGT && full:
		yes, no = argCond{a.arg, opGt, 0xffffffff, k}, argCond{a.arg, opLe, 0xffffffff, k}
	case test == unix.BPF_JGE && full:
		yes, no = argCond{a.arg, opGe, 0xffffffff, k}, argCond{a.arg, opLt, 0xffffffff, k}
	default:
		err = fmt.Errorf("an ordered comparison of a masked argument")
	}
	return yes, no, err
}

// pathRules turns a path's tests into OCI rules, whose tests of distinct
// arguments all hold (one test per argument: libseccomp compares each
// argument once in a rule). Several tests of one argument become one test
// when one implies the others, or one rule per value when they allow at
// most 64 values; an impossible path gives no rule.
func pathRules(p bpfPath) ([]specs.LinuxSyscall, error) {
	action, errno, err := ociAction(p.ret)
	if err != nil {
		return nil, err
	}
	rules := []specs.LinuxSyscall{{Action: action, ErrnoRet: errno}}
	for arg := 0; arg < 6; arg++ {
		alts, err := argTests(arg, p.conds)
		if err != nil {
			return nil, err
		}
		if alts == nil {
			continue
		}
		var next []specs.LinuxSyscall
		for _, r := range rules {
			for _, a := range alts {
				n := r
				n.Args = append(append([]specs.LinuxSeccompArg(nil), r.Args...), a)
				next = append(next, n)
			}
		}
		rules = next
	}
	return rules, nil
}

// argTests are the alternatives for one argument's tests in a path: nil
// for none, empty when no value passes them. One test that implies the
// others is written as it is; anything else becomes the aligned blocks of
// values that pass, each one MASKED_EQ test.
func argTests(arg int, conds []argCond) ([]specs.LinuxSeccompArg, error) {
	var mine []argCond
	for _, c := range conds {
		if c.arg == arg {
			mine = append(mine, c)
		}
	}
	if len(mine) == 0 {
		return nil, nil
	}
	for _, c := range mine {
		if c.op == opEq && c.mask == 0xffffffff {
			if !allHold(mine, c.k) {
				return []specs.LinuxSeccompArg{}, nil
			}
			return []specs.LinuxSeccompArg{ociArg(c)}, nil
		}
	}
	if len(mine) == 1 && (mine[0].op != opNe || mine[0].mask == 0xffffffff) {
		return []specs.LinuxSeccompArg{ociArg(mine[0])}, nil
	}
	out := []specs.LinuxSeccompArg{}
	if err := blocks(arg, mine, 0, 0, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// maxBlocks bounds the rules one argument's tests may become.
const maxBlocks = 256

// blocks adds the values that pass conds among those whose bits in fixed
// are value's, as MASKED_EQ tests of the low 32 bits (the filter's view of
// the argument): the whole block when all pass, nothing when none does,
// else each half, split on the highest bit a test looks at. runc 1.1 with
// libseccomp 2.5 ignores a second test of one argument in a rule, so a
// range or a "none of these" cannot be two tests; its blocks are disjoint
// single tests instead.
func blocks(arg int, conds []argCond, fixed, value uint32, out *[]specs.LinuxSeccompArg) error {
	all, none := true, false
	for _, c := range conds {
		in, out := blockHolds(c, fixed, value)
		all, none = all && in, none || out
	}
	switch {
	case none:
		return nil
	case all:
		if len(*out) == maxBlocks {
			return fmt.Errorf("argument %d: the values its %d tests allow take more than %d OCI rules", arg, len(conds), maxBlocks)
		}
		*out = append(*out, specs.LinuxSeccompArg{Index: uint(arg), Op: specs.OpMaskedEqual, Value: uint64(fixed), ValueTwo: uint64(value)})
		return nil
	}
	open := relevantBits(conds) &^ fixed
	if open == 0 { // every bit a test sees is fixed, so each test is decided
		return fmt.Errorf("argument %d: tests the export cannot decide", arg)
	}
	bit := uint32(1) << (31 - bits.LeadingZeros32(open))
	if err := blocks(arg, conds, fixed|bit, value, out); err != nil {
		return err
	}
	return blocks(arg, conds, fixed|bit, value|bit, out)
}

// relevantBits are the bits the tests look at: a masked test's mask, or
// every bit for an ordered one, which is then split from the top so that
// the fixed bits stay a prefix.
func relevantBits(conds []argCond) uint32 {
	var m uint32
	for _, c := range conds {
		if c.op != opEq && c.op != opNe {
			return 0xffffffff
		}
		m |= c.mask
	}
	return m
}

// blockHolds says whether c holds for every value v with v&fixed == value,
// and whether for none. Ordered tests see only prefix blocks (relevantBits).
func blockHolds(c argCond, fixed, value uint32) (all, none bool) {
	lo, hi := uint64(value), uint64(value|^fixed)
	switch c.op {
	case opEq, opNe:
		fixedDiffers := (value^c.k)&c.mask&fixed != 0
		eqAll := !fixedDiffers && c.mask&^fixed == 0
		if c.op == opEq {
			return eqAll, fixedDiffers
		}
		return fixedDiffers, eqAll
	case opGt:
		return lo > uint64(c.k), hi <= uint64(c.k)
	case opGe:
		return lo >= uint64(c.k), hi < uint64(c.k)
	case opLe:
		return hi <= uint64(c.k), lo > uint64(c.k)
	}
	return hi < uint64(c.k), lo >= uint64(c.k) // opLt
}

func allHold(conds []argCond, v uint32) bool {
	for _, c := range conds {
		if !c.holds(v) {
			return false
		}
	}
	return true
}

// ociArg is one test in OCI's terms. libseccomp compares all 64 bits of an
// argument, where the filter reads the low 32, as the kernel reads an int:
// a masked test (clone's flags) is the same either way; an equality is
// stricter under OCI for a caller that sets the high half, an inequality
// looser.
func ociArg(c argCond) specs.LinuxSeccompArg {
	a := specs.LinuxSeccompArg{Index: uint(c.arg), Value: uint64(c.k)}
	switch {
	case c.op == opEq && c.mask != 0xffffffff:
		a.Op, a.Value, a.ValueTwo = specs.OpMaskedEqual, uint64(c.mask), uint64(c.k)
	case c.op == opEq:
		a.Op = specs.OpEqualTo
	case c.op == opNe:
		a.Op = specs.OpNotEqual
	case c.op == opGt:
		a.Op = specs.OpGreaterThan
	case c.op == opGe:
		a.Op = specs.OpGreaterEqual
	case c.op == opLe:
		a.Op = specs.OpLessEqual
	default:
		a.Op = specs.OpLessThan
	}
	return a
}
