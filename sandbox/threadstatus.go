package sandbox

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/daemonbox/daemonbox/caps"
	"golang.org/x/sys/unix"
)

// threadStatus is the kernel's account of one thread, from
// /proc/thread-self/status: one read gives every credential the verify step
// checks and the signal state the signals step starts from, where asking
// each question by its own system call would take over a hundred.
type threadStatus struct {
	UID, GID   [4]uint32 // real, effective, saved, filesystem
	Groups     []uint32
	Caps       caps.Sets
	NoNewPrivs bool
	SigIgn     uint64 // bit n-1 for signal n
	SigBlk     uint64
}

// statusFile is where the launch thread's status is read. The step that
// opens it runs before the root changes, since the daemon's root may have no
// /proc; the open fd keeps answering afterwards.
const statusFile = "/proc/thread-self/status"

// readStatus rereads the status file open at fd from its start, which makes
// the kernel report the thread's state afresh. buf is reused between reads
// (a fresh buffer costs a launch measurably more: docs/design.md) and grown
// while the report fills it: the Groups line can be long.
func readStatus(fd int, buf *[]byte) (threadStatus, error) {
	for {
		if len(*buf) == 0 {
			*buf = make([]byte, 4096)
		}
		n, err := unix.Pread(fd, *buf, 0)
		if err != nil {
			return threadStatus{}, OpError("pread", statusFile, err)
		}
		if n == len(*buf) {
			*buf = make([]byte, 2*n)
			continue
		}
		st, err := parseStatus((*buf)[:n])
		if err != nil {
			return st, OpError("parse", statusFile, err)
		}
		return st, nil
	}
}

// statusFields are the lines parseStatus needs; a kernel without one of them
// is refused rather than guessed about.
var statusFields = []string{"Uid", "Gid", "Groups", "SigBlk", "SigIgn",
	"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs"}

func parseStatus(b []byte) (threadStatus, error) {
	var st threadStatus
	seen := 0
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		key, val, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		fields := bytes.Fields(val)
		var err error
		switch string(key) {
		case "Uid":
			err = ids(fields, &st.UID)
		case "Gid":
			err = ids(fields, &st.GID)
		case "Groups":
			st.Groups, err = groupList(fields)
		case "SigBlk":
			st.SigBlk, err = hexField(fields)
		case "SigIgn":
			st.SigIgn, err = hexField(fields)
		case "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb":
			var v uint64
			v, err = hexField(fields)
			*capField(&st.Caps, string(key)) = caps.Set(v)
		case "NoNewPrivs":
			st.NoNewPrivs = len(fields) == 1 && string(fields[0]) == "1"
		default:
			continue
		}
		if err != nil {
			return st, fmt.Errorf("%s: %w", key, err)
		}
		seen++
	}
	if seen != len(statusFields) {
		return st, fmt.Errorf("found %d of the fields %v", seen, statusFields)
	}
	return st, nil
}

func capField(s *caps.Sets, key string) *caps.Set {
	switch key {
	case "CapInh":
		return &s.Inheritable
	case "CapPrm":
		return &s.Permitted
	case "CapEff":
		return &s.Effective
	case "CapBnd":
		return &s.Bounding
	}
	return &s.Ambient
}

func ids(fields [][]byte, out *[4]uint32) error {
	if len(fields) != 4 {
		return fmt.Errorf("want 4 ids, got %q", fields)
	}
	for i, f := range fields {
		n, err := strconv.ParseUint(string(f), 10, 32)
		if err != nil {
			return err
		}
		out[i] = uint32(n)
	}
	return nil
}

func groupList(fields [][]byte) ([]uint32, error) {
	out := make([]uint32, 0, len(fields))
	for _, f := range fields {
		n, err := strconv.ParseUint(string(f), 10, 32)
		if err != nil {
			return nil, err
		}
		out = append(out, uint32(n))
	}
	return out, nil
}

func hexField(fields [][]byte) (uint64, error) {
	if len(fields) != 1 {
		return 0, fmt.Errorf("want one hex mask, got %q", fields)
	}
	return strconv.ParseUint(string(fields[0]), 16, 64)
}
