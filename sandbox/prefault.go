package sandbox

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// heapAhead is how much fresh heap a launch touches, rounded up: parsing,
// planning and the steps fault in about 30 new heap pages.
const heapAhead = 128 << 10

// stackAhead is a frame size that moves init's goroutine from its 4 KiB
// stack to an 8 KiB one, the size the launch grows it to.
const stackAhead = 6 << 10

var heapMark *[64]byte

// Prefault does early, in bulk, two costs that the launch would otherwise pay
// piecemeal: the heap pages it faults in, and the growth of its stack. It is
// only a hint to the kernel and the runtime: nothing's contents change.
func Prefault() {
	growStack()
	prefaultHeap()
}

// prefaultHeap asks the kernel to map, in one call, the heap pages that the
// launch would otherwise fault in one at a time. On this kind of machine a
// page fault costs about 11 us and MADV_POPULATE_WRITE about 1 us a page,
// which takes 0.25 ms off a launch (bench/launch.sh). Go's allocator takes
// fresh pages upward from its newest span, so the range starts at a new
// allocation. On an error (a kernel before 5.14, a range past the mapped
// heap) nothing is lost.
func prefaultHeap() {
	heapMark = new([64]byte)
	start := uintptr(unsafe.Pointer(heapMark)) &^ (uintptr(unix.Getpagesize()) - 1)
	unix.Syscall(unix.SYS_MADVISE, start, heapAhead, unix.MADV_POPULATE_WRITE)
}

// growStack takes a frame big enough that the runtime moves the goroutine to
// a larger stack now, while it holds only init's few frames. Growing it deep
// in the launch instead means the runtime walks and adjusts every frame,
// reading each function's stack maps from cold pages of the binary: 0.2 ms
// more here (bench/launch.sh, 2000 runs).
//
//go:noinline
func growStack() byte {
	var frame [stackAhead]byte
	frame[len(os.Args)%stackAhead] = 1 // used, so that the frame is kept
	return frame[stackAhead/2]
}
