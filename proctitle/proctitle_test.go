package proctitle

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// Set is tried in a child (this test binary again), since it rewrites the
// argv the test framework read.
func TestSet(t *testing.T) {
	if os.Getenv("PROCTITLE_CHILD") == "1" {
		// comm is a thread's: read on the thread that set it, which a
		// test's goroutine need not share with the process's first.
		runtime.LockOSThread()
		Set("daemonbox: web supervisor", Comm("a-rather-long-name"))
		cmdline, _ := os.ReadFile("/proc/self/cmdline")
		comm, _ := os.ReadFile("/proc/thread-self/comm")
		os.Stdout.Write(append(append(cmdline, '|'), comm...))
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSet$", Room)
	cmd.Env = append(os.Environ(), "PROCTITLE_CHILD=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "daemonbox: web supervisor\x00|db:a-rather-lon\n"; !strings.HasPrefix(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
}

// A title longer than the argv area is cut, and still ends in a NUL.
func TestArgvAreaCut(t *testing.T) {
	if os.Getenv("PROCTITLE_CHILD") == "2" {
		Set(strings.Repeat("x", 4096), "t")
		cmdline, _ := os.ReadFile("/proc/self/cmdline")
		os.Stdout.Write(cmdline)
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestArgvAreaCut$")
	cmd.Env = append(os.Environ(), "PROCTITLE_CHILD=2")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	area := len(os.Args[0]) + 1 + len("-test.run=^TestArgvAreaCut$") + 1
	if want := strings.Repeat("x", area-2) + "\x00"; string(out) != want {
		t.Errorf("%q, want %d x and a NUL", out, area-2)
	}
}

func TestArgvAreaContiguous(t *testing.T) {
	area := argvArea(os.Args)
	n := 0
	for _, a := range os.Args {
		n += len(a) + 1
	}
	if len(area) != n {
		t.Errorf("area of %d bytes, want %d", len(area), n)
	}
}
