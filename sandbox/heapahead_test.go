package sandbox

import (
	"os"
	"os/exec"
	"testing"

	"github.com/daemonbox/daemonbox/rlimit"
	"golang.org/x/sys/unix"
)

// heapAheadChild runs in a re-executed test binary: the address-space
// limit far below what a Go process reserves, then 2 MiB of small
// allocations, more than the steps after rlimits and the exec's copies
// make.
func heapAheadChild() {
	limits := []rlimit.Limit{{Name: "as", Resource: unix.RLIMIT_AS, Soft: 256 << 20, Hard: 256 << 20}}
	if os.Getenv("HEAP_AHEAD") == "1" {
		heapAhead(limits)
	}
	if err := rlimit.Apply(limits); err != nil {
		os.Exit(3)
	}
	keep := make([][]byte, 0, 8192)
	for range 8192 {
		keep = append(keep, make([]byte, 256))
	}
	os.Stdout.WriteString("allocated\n")
	os.Exit(0)
}

// With as below the process's reserved address space, the heap grows
// only into room heapAhead mapped before the limit.
func TestHeapAhead(t *testing.T) {
	if os.Getenv("HEAP_AHEAD") != "" {
		heapAheadChild()
	}
	for _, ahead := range []string{"1", "0"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHeapAhead$")
		cmd.Env = append(os.Environ(), "HEAP_AHEAD="+ahead)
		out, err := cmd.CombinedOutput()
		t.Logf("heapAhead %s: %v", ahead, err)
		if ahead == "1" && (err != nil || string(out) != "allocated\n") {
			t.Errorf("with heapAhead: %v\n%.300s", err, out)
		}
	}
}
