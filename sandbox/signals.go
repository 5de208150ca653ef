package sandbox

import (
	"iter"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The signals step: exactly the spec's signals ignored, and an empty mask,
// set raw so that the Go runtime's bookkeeping is bypassed.

// signals leaves exactly the spec's signals ignored and this thread's mask
// empty: the daemon inherits both across exec. A handler daemonbox's runtime
// installed needs nothing, since exec resets a caught signal to SIG_DFL; so
// only the signals whose ignoring must change are touched, as SigIgn tells.
func (l *launch) signals() error {
	want := signalMask(l.plan.Ignore)
	for sig := 1; sig <= maxSig; sig++ {
		bit := uint64(1) << (sig - 1)
		if (l.start.SigIgn^want)&bit == 0 {
			continue
		}
		if err := setDisposition(sig, want&bit != 0); err != nil {
			return OpError("rt_sigaction", strconv.Itoa(sig), err)
		}
	}
	if err := unix.PthreadSigmask(unix.SIG_SETMASK, &unix.Sigset_t{}, nil); err != nil {
		return OpError("rt_sigprocmask", "", err)
	}
	return nil
}

func signalMask(sigs []int) uint64 {
	var m uint64
	for _, sig := range sigs {
		m |= 1 << (sig - 1)
	}
	return m
}

// The kernel's struct sigaction for rt_sigaction(2) on amd64 and arm64.
type kernelSigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

const (
	sigDFL = 0
	sigIGN = 1
	maxSig = 64
)

// setDisposition sets sig to SIG_DFL or SIG_IGN directly, bypassing the Go
// runtime's bookkeeping: the process is about to exec, and these are the
// dispositions the daemon inherits.
func setDisposition(sig int, ignore bool) error {
	sa := kernelSigaction{handler: sigDFL}
	if ignore {
		sa.handler = sigIGN
	}
	return rtSigaction(sig, &sa, nil)
}

// rtSigaction is rt_sigaction(2) itself, past the Go runtime's
// bookkeeping: act, if not nil, becomes sig's action; old, if not nil,
// receives the one before.
func rtSigaction(sig int, act, old *kernelSigaction) error {
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig),
		uintptr(unsafe.Pointer(act)), uintptr(unsafe.Pointer(old)), 8, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// processIgnored is this process's set of ignored signals, as SigIgn in
// /proc/self/status gives it, asked of the kernel one signal at a time:
// 64 rt_sigaction queries cost less than reading and parsing the status
// file, on the one-image launch's critical path.
func processIgnored() (uint64, error) {
	return ignoredOf(func(yield func(int) bool) {
		for sig := 1; sig <= maxSig && yield(sig); sig++ {
		}
	})
}

// ignoredOf is the set of sigs that this process ignores now.
func ignoredOf(sigs iter.Seq[int]) (uint64, error) {
	var m uint64
	for sig := range sigs {
		ign, err := ignoredNow(sig)
		if err != nil {
			return 0, err
		}
		if ign {
			m |= 1 << (sig - 1)
		}
	}
	return m, nil
}

// ignoredNow says whether sig's disposition is SIG_IGN (act NULL: a query).
func ignoredNow(sig int) (bool, error) {
	var sa kernelSigaction
	if err := rtSigaction(sig, nil, &sa); err != nil {
		return false, err
	}
	return sa.handler == sigIGN, nil
}
