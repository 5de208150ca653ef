package seccomp

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Load installs prog, from Build, on the calling thread only: no TSYNC, since
// the caller is a locked thread that execs next, and execve keeps only the
// calling thread. The thread needs no_new_privs, or CAP_SYS_ADMIN.
func Load(prog []byte) error {
	raw, err := Decode(prog)
	if err != nil {
		return err
	}
	filter := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		filter[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	fprog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		return errno
	}
	return nil
}
