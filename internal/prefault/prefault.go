// Package prefault maps, in one system call, the heap pages a daemonbox
// launch would otherwise fault in one at a time. cmd/daemonbox imports it for
// that side effect alone.
//
// It works from an init function so that it runs before most of the
// standard library's: Go initializes each package as soon as its imports
// are, taking ready packages in import-path order, and this one imports
// only syscall and unsafe. The heap spans that later initializers and the
// launch take then lie in memory already mapped. On this kind of machine a
// page fault costs about 11 us and MADV_POPULATE_WRITE about 1 us a page
// (docs/design.md, "What a launch costs").
package prefault

import (
	"syscall"
	"unsafe"
)

// ahead is how much fresh heap start-up and a launch touch, rounded up.
const ahead = 128 << 10

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14), which package
// syscall does not name.
const madvPopulateWrite = 23

var mark *[64]byte

func init() { populate() }

// populate maps the heap from a new allocation on. Go's allocator takes fresh
// pages upward from its newest span, so that is where start-up's next spans
// lie. It is only a hint: no memory's contents change, and on an error (an
// older kernel, a range past the mapped heap) nothing is lost.
func populate() error {
	mark = new([64]byte)
	start := uintptr(unsafe.Pointer(mark)) &^ uintptr(syscall.Getpagesize()-1)
	_, _, errno := syscall.Syscall(syscall.SYS_MADVISE, start, ahead, madvPopulateWrite)
	if errno != 0 {
		return errno
	}
	return nil
}
