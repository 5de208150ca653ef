package supervisor

import (
	"slices"
	"strings"
	"testing"
)

// smapsSample is the shape of a static daemonbox's smaps, cut short: code,
// read-only data, data, bss, and a read-only mapping with a written page.
const smapsSample = `00400000-0067b000 r-xp 00000000 fd:01 123 /usr/local/bin/daemon box
Size:               2540 kB
Rss:                2284 kB
Anonymous:             0 kB
Swap:                  0 kB
VmFlags: rd ex mr mw me dw sd
0067b000-00936000 r--p 0027b000 fd:01 123 /usr/local/bin/daemon box
Rss:                2200 kB
Anonymous:             0 kB
Swap:                  0 kB
VmFlags: rd mr mw me dw sd
00936000-00966000 rw-p 00536000 fd:01 123 /usr/local/bin/daemon box
Anonymous:           120 kB
Swap:                  0 kB
00966000-0299e000 rw-p 00000000 00:00 0 
Anonymous:            92 kB
7f0000000000-7f0000010000 r--p 00002000 fd:01 77 /usr/lib/relro
Anonymous:             0 kB
Swap:                  4 kB
7f0000010000-7f0000020000 r--p 00002000 fd:01 78 /usr/lib/patched
Anonymous:             4 kB
Swap:                  0 kB
7ffc9b961000-7ffc9b982000 rw-p 00000000 00:00 0                          [stack]
7ffc9b9fe000-7ffc9ba00000 r-xp 00000000 00:00 0                          [vdso]
Anonymous:             0 kB
`

func TestCleanRanges(t *testing.T) {
	got := cleanRanges(strings.NewReader(smapsSample))
	want := [][2]uintptr{{0x400000, 0x67b000}, {0x67b000, 0x936000}}
	if !slices.Equal(got, want) {
		t.Errorf("cleanRanges = %#x; want %#x", got, want)
	}
}

// The test binary's own smaps: its code and read-only data are found, and
// trimming them leaves it running.
func TestCleanFileRanges(t *testing.T) {
	ranges := cleanFileRanges()
	if len(ranges) < 2 {
		t.Fatalf("cleanFileRanges() = %#x: want at least the executable's code and read-only data", ranges)
	}
	trimImage()
	if got := cleanFileRanges(); len(got) < 2 {
		t.Errorf("after trimImage, cleanFileRanges() = %#x; before, %#x", got, ranges)
	}
}
