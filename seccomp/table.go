package seccomp

// For exports that describe a built filter by name (an OCI runtime's
// LinuxSeccomp): the running architecture's table and its audit arch.

// SyscallName is the name of system call number nr on the running
// architecture; "" where the table has none.
func SyscallName(nr int) string {
	if nr < 0 || nr >= len(syscallNames) {
		return ""
	}
	return syscallNames[nr]
}

// MaxSyscall is the highest number in the running architecture's table; -1
// where there is no table.
func MaxSyscall() int { return len(syscallNames) - 1 }

// AuditArch is the AUDIT_ARCH_* value of a native call, which a filter's
// header compares with seccomp_data.arch; 0 where there is no table.
func AuditArch() uint32 { return auditArch }

// HasX32 says whether x32 calls share the native arch, told apart by bit
// 0x40000000 of the number, which a filter's header refuses.
func HasX32() bool { return hasX32 }
