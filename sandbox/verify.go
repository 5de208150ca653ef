package sandbox

import (
	"fmt"
	"slices"

	"github.com/daemonbox/daemonbox/caps"
	"golang.org/x/sys/unix"
)

// Reading the thread back: the status step opens /proc/thread-self/status
// once (bounding and signals start from that reading), and verify reads it
// again at the end and compares every credential with the launch.

func (l *launch) readStart() error {
	fd, err := unix.Open(statusFile, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return OpError("open", statusFile, err)
	}
	l.status = fd
	l.start, err = readStatus(l.status, &l.statusBuf)
	return err
}

// verify reads the thread's state back from the kernel, all at once, and
// compares it with the plan. A one-image daemon thread that leaves the
// uid change to the fork's child (childCreds) has its credentials checked
// on the daemon itself instead (checkCreds, from settle).
func (l *launch) verify() error {
	st, err := readStatus(l.status, &l.statusBuf)
	if err != nil {
		return err
	}
	if !l.childCreds() {
		if err := checkCreds(l.plan, st); err != nil {
			return err
		}
	}
	if st.NoNewPrivs != l.plan.NoNewPrivs {
		return fmt.Errorf("no_new_privs is %v, want %v", st.NoNewPrivs, l.plan.NoNewPrivs)
	}
	if want := signalMask(l.plan.Ignore); st.SigIgn != want || st.SigBlk != 0 {
		return fmt.Errorf("ignored signals %#x, blocked %#x; want %#x and none", st.SigIgn, st.SigBlk, want)
	}
	return nil
}

// checkCreds compares a status's uids, gids, groups and five capability
// sets with the plan's.
func checkCreds(p *Launch, st threadStatus) error {
	u, g := p.UID, p.GID
	if st.UID != [4]uint32{u, u, u, u} {
		return fmt.Errorf("uids (real, effective, saved, fs) are %v, want %d", st.UID, u)
	}
	if st.GID != [4]uint32{g, g, g, g} {
		return fmt.Errorf("gids (real, effective, saved, fs) are %v, want %d", st.GID, g)
	}
	if !p.Rootless && !sameSet(st.Groups, p.Groups) { // rootless, the caller's stay
		return fmt.Errorf("supplementary groups are %v, want %v", st.Groups, p.Groups)
	}
	return caps.Verify(p.Caps, st.Caps)
}

// sameSet compares the kernel's group list, which it keeps sorted, with the
// plan's, which has no duplicates.
func sameSet(sorted, want []uint32) bool {
	if len(sorted) != len(want) {
		return false
	}
	for _, g := range want {
		if _, found := slices.BinarySearch(sorted, g); !found {
			return false
		}
	}
	return true
}
