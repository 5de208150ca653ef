package sandbox

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/caps"
	"golang.org/x/sys/unix"
)

// A status file as a 6.x kernel writes it, cut to the lines around those
// read.
const sampleStatus = `Name:	true
Umask:	0022
State:	R (running)
Uid:	65534	65534	65534	65534
Gid:	65533	65533	65533	65533
FDSize:	64
Groups:	4 27 
NStgid:	123
SigQ:	0/63432
SigPnd:	0000000000000000
ShdPnd:	0000000000000000
SigBlk:	0000000000000000
SigIgn:	0000000000001001
SigCgt:	0000000000000000
CapInh:	0000000000000400
CapPrm:	0000000000000400
CapEff:	0000000000000400
CapBnd:	0000000000000400
CapAmb:	0000000000000400
NoNewPrivs:	1
Seccomp:	0
`

func TestParseStatus(t *testing.T) {
	st, err := parseStatus([]byte(sampleStatus))
	if err != nil {
		t.Fatal(err)
	}
	k := caps.Set(1 << 10)
	want := threadStatus{
		UID: [4]uint32{65534, 65534, 65534, 65534}, GID: [4]uint32{65533, 65533, 65533, 65533},
		Groups: []uint32{4, 27}, Caps: caps.Sets{Bounding: k, Permitted: k, Effective: k, Inheritable: k, Ambient: k},
		NoNewPrivs: true, SigIgn: 1<<0 | 1<<12,
	}
	if !reflect.DeepEqual(st, want) {
		t.Errorf("got  %+v\nwant %+v", st, want)
	}
	if signalMask([]int{1, 13}) != st.SigIgn {
		t.Errorf("signalMask: %#x", signalMask([]int{1, 13}))
	}
}

// A kernel that leaves out a line the verify step needs is refused.
func TestParseStatusIncomplete(t *testing.T) {
	for _, cut := range []string{"CapAmb:\t0000000000000400\n", "NoNewPrivs:\t1\n"} {
		short := strings.Replace(sampleStatus, cut, "", 1)
		if short == sampleStatus {
			t.Fatalf("no %q in the sample", cut)
		}
		if _, err := parseStatus([]byte(short)); err == nil {
			t.Errorf("without %q: no error", cut)
		}
	}
	if _, err := parseStatus([]byte("Uid:\t1\t2\n")); err == nil {
		t.Error("short Uid line: no error")
	}
}

// The test's own status, read the way the launch reads it, agrees with the
// system calls.
func TestReadStatus(t *testing.T) {
	fd, err := unix.Open(statusFile, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Skip("no /proc:", err)
	}
	defer unix.Close(fd)
	var buf []byte
	st, err := readStatus(fd, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if int(st.UID[1]) != os.Geteuid() || int(st.GID[1]) != os.Getegid() {
		t.Errorf("status says uid %v gid %v", st.UID, st.GID)
	}
	// A buffer too small for the report is grown.
	buf = make([]byte, 16)
	again, err := readStatus(fd, &buf)
	if err != nil || again.UID != st.UID {
		t.Errorf("with a small buffer: %v, %+v", err, again)
	}
	held, err := caps.Held()
	if err != nil {
		t.Fatal(err)
	}
	if held.Permitted != st.Caps.Permitted || held.Effective != st.Caps.Effective {
		t.Errorf("status %+v, capget %+v", st.Caps, held)
	}
}
