// Package proctitle sets what ps shows of a daemonbox process: its comm
// (prctl PR_SET_NAME, 15 bytes, what `ps -e` and top show) and its command
// line (/proc/PID/cmdline, what `ps -f` shows).
//
// The command line is written over the process's own argv strings, as
// setproctitle(3) does: the kernel reports the memory between arg_start
// and arg_end, and when the byte at arg_end-1 is not NUL it reports it up to
// the first NUL. Moving arg_start and arg_end (PR_SET_MM_ARG_START/END)
// would allow any length, but takes CAP_SYS_RESOURCE, which a rootless
// daemonbox (and some root ones) lacks; so the title is cut to the argv
// area's size, and the processes daemonbox re-executes pass a padding
// argument to make room (Room).
package proctitle

import (
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Room is a padding argument that re-executed stages pass in their argv so
// that a title fits: the argv area is fixed at exec.
var Room = strings.Repeat(" ", 96)

// commMax is the kernel's TASK_COMM_LEN less its NUL.
const commMax = 15

// Set sets the comm to the first 15 bytes of comm, and writes title over
// the argv area, cut to fit. It must be called once os.Args has been read:
// its strings share the area.
func Set(title, comm string) {
	SetComm(comm)
	area := argvArea(os.Args)
	if len(area) < 2 {
		return
	}
	// The title, a NUL, NULs up to a non-NUL last byte: the kernel then
	// reports the title alone.
	n := copy(area[:len(area)-2], title)
	clear(area[n : len(area)-1])
	area[len(area)-1] = ' '
}

// SetComm sets the comm alone, to the first 15 bytes of comm.
func SetComm(comm string) {
	b := make([]byte, commMax+1)
	copy(b[:commMax], comm)
	unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0)
}

// argvArea returns the memory that holds args, the process's argv as the
// runtime left it in place; nil if the strings are not one contiguous
// run, as the kernel lays them out.
func argvArea(args []string) []byte {
	if len(args) == 0 || len(args[0]) == 0 {
		return nil
	}
	start := unsafe.StringData(args[0])
	end := uintptr(unsafe.Pointer(start))
	for _, a := range args {
		p := uintptr(unsafe.Pointer(unsafe.StringData(a)))
		if len(a) > 0 && p != end {
			return nil
		}
		end += uintptr(len(a)) + 1 // its NUL
	}
	return unsafe.Slice(start, end-uintptr(unsafe.Pointer(start)))
}

// Comm is the comm daemonbox gives a process of the daemon named name:
// "db:" and as much of the name as fits.
func Comm(name string) string { return "db:" + name }
