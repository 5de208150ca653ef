//go:build !amd64 && !arm64

package seccomp

// No table: Build refuses, naming the architecture.
const (
	auditArch = 0
	hasX32    = false
)

var (
	syscallNames   = [...]string{""}
	syscallsByName = [...]numbered{}
	groupNumbers   = [...][]uint16{}
)
