package sandbox

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

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
	_, _, errno := unix.RawSyscall6(unix.SYS_RT_SIGACTION, uintptr(sig),
		uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
