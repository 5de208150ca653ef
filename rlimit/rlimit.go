// Package rlimit applies resource limits to the calling process.
package rlimit

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Unlimited is RLIM_INFINITY.
const Unlimited = unix.RLIM_INFINITY

// Limit is one resource limit to set.
type Limit struct {
	Name     string // the spec key ("nofile"), for messages
	Resource int    // RLIMIT_*
	Soft     uint64
	Hard     uint64
}

func (l Limit) String() string {
	return fmt.Sprintf("%s soft=%s hard=%s", l.Name, format(l.Soft), format(l.Hard))
}

func format(n uint64) string {
	if n == Unlimited {
		return "unlimited"
	}
	return fmt.Sprint(n)
}

// Apply sets every limit on the calling process. It goes through prlimit,
// which the Go runtime watches: setting RLIMIT_NOFILE here stops syscall.Exec
// from putting back the soft limit Go found at start-up.
func Apply(limits []Limit) error {
	for _, l := range limits {
		lim := unix.Rlimit{Cur: l.Soft, Max: l.Hard}
		if err := unix.Prlimit(0, l.Resource, &lim, nil); err != nil {
			return &Error{Limit: l, Err: err}
		}
	}
	return nil
}

// Get returns the calling process's current limit for resource.
func Get(resource int) (soft, hard uint64, err error) {
	var lim unix.Rlimit
	err = unix.Prlimit(0, resource, nil, &lim)
	return lim.Cur, lim.Max, err
}

// Error says which limit the kernel refused.
type Error struct {
	Limit Limit
	Err   error
}

func (e *Error) Error() string { return fmt.Sprintf("setrlimit %s: %v", e.Limit, e.Err) }

func (e *Error) Unwrap() error { return e.Err }
