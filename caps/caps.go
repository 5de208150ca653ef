// Package caps sets a process's capability sets: the bounding set, keep-caps
// across the uid change, and the final permitted, effective, inheritable and
// ambient sets. It is the only user of the capability library, and trusts no
// call's success: Verify compares every set with what the kernel reports.
package caps

import (
	"fmt"
	"strings"

	"github.com/moby/sys/capability"
	"golang.org/x/sys/unix"
)

// Set is a capability set, bit n for capability n.
type Set uint64

// Has reports whether capability n is in s.
func (s Set) Has(n int) bool { return n >= 0 && n < 64 && s&(1<<uint(n)) != 0 }

func (s Set) list(last int) []capability.Cap {
	var out []capability.Cap
	for n := 0; n <= last; n++ {
		if s.Has(n) {
			out = append(out, capability.Cap(n))
		}
	}
	return out
}

// Numbers lists the capabilities in s, up to last.
func (s Set) Numbers(last int) []uintptr {
	var out []uintptr
	for _, c := range s.list(last) {
		out = append(out, uintptr(c))
	}
	return out
}

// Bounding reads the calling thread's bounding set, up to last.
func Bounding(last int) (Set, error) {
	var s Set
	for n := 0; n <= last; n++ {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(n), 0, 0, 0)
		if err != nil {
			return 0, fmt.Errorf("prctl PR_CAPBSET_READ %s: %w", Name(n), err)
		}
		if in == 1 {
			s |= 1 << uint(n)
		}
	}
	return s, nil
}

// Upto is the set of every capability from 0 to last.
func Upto(last int) Set {
	if last >= 63 {
		return ^Set(0)
	}
	return Set(1)<<uint(last+1) - 1
}

// LastCap is the highest capability the running kernel knows (cap_last_cap).
func LastCap() (int, error) {
	c, err := capability.LastCap()
	return int(c), err
}

// Sets are the five capability sets of a thread.
type Sets struct {
	Bounding, Permitted, Effective, Inheritable, Ambient Set
}

// Held reads the calling thread's permitted, effective and inheritable sets:
// one capget, all that planning needs.
func Held() (Sets, error) {
	var s Sets
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return s, fmt.Errorf("capget: %w", err)
	}
	s.Permitted = Set(data[0].Permitted) | Set(data[1].Permitted)<<32
	s.Effective = Set(data[0].Effective) | Set(data[1].Effective)<<32
	s.Inheritable = Set(data[0].Inheritable) | Set(data[1].Inheritable)<<32
	return s, nil
}

// Want is what the daemon must end with: Keep in the bounding, permitted and
// effective sets, and also in inheritable and ambient when Ambient is set (a
// non-root daemon keeps capabilities across exec only through ambient).
type Want struct {
	Keep    Set
	Ambient bool
}

// Sets returns the five sets the daemon must have.
func (w Want) Sets() Sets {
	s := Sets{Bounding: w.Keep, Permitted: w.Keep, Effective: w.Keep}
	if w.Ambient {
		s.Inheritable, s.Ambient = w.Keep, w.Keep
	}
	return s
}

// DropBounding removes every capability but keep from the bounding set,
// which holds have now: a capability already absent is not dropped again.
// It needs CAP_SETPCAP, so it runs before the uid change.
func DropBounding(have, keep Set) error {
	last, err := LastCap()
	if err != nil {
		return err
	}
	for n := 0; n <= last; n++ {
		if keep.Has(n) || !have.Has(n) {
			continue
		}
		if err := capability.DropBound(capability.Cap(n)); err != nil {
			return fmt.Errorf("drop %s from the bounding set: %w", Name(n), err)
		}
	}
	return nil
}

// KeepAcrossSetuid keeps the permitted set through the coming setresuid
// (PR_SET_KEEPCAPS); the kernel clears the flag again at exec.
func KeepAcrossSetuid() error {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_KEEPCAPS: %w", err)
	}
	return nil
}

// Apply sets the permitted, effective and inheritable sets with one capset,
// then the ambient set, to what w says. It runs after the uid change.
func Apply(w Want) error {
	want := w.Sets()
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(want.Effective), Permitted: uint32(want.Permitted), Inheritable: uint32(want.Inheritable)},
		{Effective: uint32(want.Effective >> 32), Permitted: uint32(want.Permitted >> 32), Inheritable: uint32(want.Inheritable >> 32)},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	if err := capability.ResetAmbient(); err != nil {
		return fmt.Errorf("clear ambient set: %w", err)
	}
	last, err := LastCap()
	if err != nil {
		return err
	}
	for _, n := range want.Ambient.list(last) {
		if err := capability.SetAmbient(true, n); err != nil {
			return fmt.Errorf("raise %s in the ambient set: %w", Name(int(n)), err)
		}
	}
	return nil
}

// Verify compares the five sets the kernel reports with what w says, and
// fails on any difference.
func Verify(w Want, got Sets) error {
	want := w.Sets()
	var diffs []string
	for _, d := range []struct {
		name      string
		got, want Set
	}{
		{"bounding", got.Bounding, want.Bounding},
		{"permitted", got.Permitted, want.Permitted},
		{"effective", got.Effective, want.Effective},
		{"inheritable", got.Inheritable, want.Inheritable},
		{"ambient", got.Ambient, want.Ambient},
	} {
		if d.got != d.want {
			diffs = append(diffs, fmt.Sprintf("%s set is %#x, want %#x", d.name, uint64(d.got), uint64(d.want)))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("capabilities differ from the plan: %s", strings.Join(diffs, "; "))
	}
	return nil
}

// SetInheritable sets the calling thread's inheritable set to s, keeping
// its permitted and effective sets: the one-image launch's daemon thread
// stays root, and Go's fork child then changes the uid (SysProcAttr).
func SetInheritable(s Set) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	data[0].Inheritable, data[1].Inheritable = uint32(s), uint32(s>>32)
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}
