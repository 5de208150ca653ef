package prefault

import (
	"errors"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// The advice number is written out by hand (package syscall lacks it), and a
// wrong one would fail silently at start-up.
func TestAdvice(t *testing.T) {
	if madvPopulateWrite != unix.MADV_POPULATE_WRITE {
		t.Fatalf("madvPopulateWrite = %d, want MADV_POPULATE_WRITE (%d)", madvPopulateWrite, unix.MADV_POPULATE_WRITE)
	}
}

func TestPopulate(t *testing.T) {
	err := populate()
	if errors.Is(err, syscall.EINVAL) {
		t.Skip("the kernel lacks MADV_POPULATE_WRITE (Linux 5.14):", err)
	}
	if err != nil {
		t.Fatalf("madvise(MADV_POPULATE_WRITE) of %d KiB of heap: %v", ahead>>10, err)
	}
}
