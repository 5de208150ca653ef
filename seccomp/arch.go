package seccomp

import "github.com/elastic/go-seccomp-bpf/arch"

// native is the running architecture's syscall table, nil where the library
// has none (the filter is then refused, never silently skipped).
var native, _ = arch.GetInfo("")

func syscallNumber(name string) (int, bool) {
	if native == nil {
		return 0, false
	}
	n, ok := native.SyscallNames[name]
	return n, ok
}
