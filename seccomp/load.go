package seccomp

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Load installs prog, from Build, on the calling thread only: no TSYNC, since
// the caller is a locked thread that execs next, and execve keeps only the
// calling thread. The thread needs no_new_privs, or CAP_SYS_ADMIN.
func Load(prog []byte) error {
	filter, err := Decode(prog)
	if err != nil {
		return err
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return errno
	}
	return nil
}
