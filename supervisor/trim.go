package supervisor

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// trimImage drops the supervisor's page table entries for daemonbox's own
// code and read-only data once the daemon runs. The launch touched nearly
// all of both (the kernel maps 64 KiB around each fault), about 4.3 MiB of
// the supervisor's 5.6 MiB resident; a waiting supervisor needs a small part
// of it, which faults back in from the page cache when used. Measured here
// (docs/design.md, "Resident memory"): 5.6 MiB RSS before, 2.3 after.
//
// MADV_DONTNEED on a private file mapping gives the file's bytes back on
// the next touch: the pages stay in the page cache (clean, shared with any
// other daemonbox process, reclaimable), and nothing is read from disk
// again unless the kernel evicted them meanwhile. A page the process wrote
// would be lost, so only read-only mappings that hold no written page are
// trimmed: not data or bss, not a relocated RELRO segment of a
// dynamically linked build, not code a debugger or uprobe patched.
// It is only advice: on any error the supervisor just keeps more resident.
// trimDelay is how long the daemon has run, ready, before the trim.
const trimDelay = time.Second

func trimImage() {
	for _, r := range cleanFileRanges() {
		unix.Syscall(unix.SYS_MADVISE, r[0], r[1]-r[0], unix.MADV_DONTNEED)
	}
}

// cleanFileRanges returns, from /proc/self/smaps, the read-only mappings of
// files that hold no page of the process's own (Anonymous and Swap 0 kB):
// none if it cannot be read. With daemonbox's static build, those are its
// executable's code and read-only data, mapped for the process's whole
// life: a range cannot have been unmapped and reused by the time of the
// advice.
func cleanFileRanges() [][2]uintptr {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return nil
	}
	defer f.Close()
	return cleanRanges(f)
}

// cleanRanges reads smaps for cleanFileRanges.
func cleanRanges(smaps io.Reader) [][2]uintptr {
	var ranges [][2]uintptr
	var cur [2]uintptr
	ok := false
	sc := bufio.NewScanner(smaps)
	for sc.Scan() {
		line := sc.Bytes()
		if start, end, isHead, clean := smapsHead(line); isHead {
			if ok {
				ranges = append(ranges, cur)
			}
			cur, ok = [2]uintptr{start, end}, clean
		} else if ownPages(line) {
			ok = false
		}
	}
	if ok && sc.Err() == nil {
		ranges = append(ranges, cur)
	}
	return ranges
}

// smapsHead parses a mapping's first line in smaps ("start-end perms offset
// dev inode path"); the lines that follow it begin with a capital. clean
// means a mapping of a file without write permission; its own pages are
// counted on the lines that follow. It allocates nothing: it reads some
// 800 lines a call.
func smapsHead(line []byte) (start, end uintptr, isHead, clean bool) {
	if len(line) == 0 || !isHex(line[0]) {
		return 0, 0, false, false
	}
	span, rest, _ := bytes.Cut(line, []byte(" "))
	perms, rest, _ := bytes.Cut(rest, []byte(" "))
	_, rest, _ = bytes.Cut(rest, []byte(" ")) // offset
	_, rest, _ = bytes.Cut(rest, []byte(" ")) // device
	inode, _, _ := bytes.Cut(rest, []byte(" "))
	a, b, found := bytes.Cut(span, []byte("-"))
	first, okA := parseHex(a)
	last, okB := parseHex(b)
	if !found || !okA || !okB || last <= first {
		return 0, 0, false, false
	}
	clean = len(perms) == 4 && perms[1] == '-' && len(inode) > 0 && string(inode) != "0"
	return first, last, true, clean
}

// ownPages reports an smaps line that counts pages of the process's own
// in a mapping (written ones, resident or swapped out): more than 0 kB.
func ownPages(line []byte) bool {
	v, found := bytes.CutPrefix(line, []byte("Anonymous:"))
	if !found {
		v, found = bytes.CutPrefix(line, []byte("Swap:"))
	}
	return found && string(bytes.TrimSpace(v)) != "0 kB"
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

func parseHex(b []byte) (uintptr, bool) {
	if len(b) == 0 || len(b) > 16 {
		return 0, false
	}
	var n uintptr
	for _, c := range b {
		switch {
		case '0' <= c && c <= '9':
			n = n<<4 | uintptr(c-'0')
		case 'a' <= c && c <= 'f':
			n = n<<4 | uintptr(c-'a'+10)
		default:
			return 0, false
		}
	}
	return n, true
}
