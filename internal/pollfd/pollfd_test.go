package pollfd

import (
	"os"
	"strconv"
	"testing"
)

// The poller's fds, opened by this package's init, lie above the range a
// launch in place puts listen sockets in.
func TestPollerAboveReserved(t *testing.T) {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, e := range entries {
		target, _ := os.Readlink("/proc/self/fd/" + e.Name())
		if target != "anon_inode:[eventpoll]" && target != "anon_inode:[eventfd]" {
			continue
		}
		found++
		if fd, _ := strconv.Atoi(e.Name()); fd < 3+Reserved {
			t.Errorf("fd %d is the runtime's %s, below %d", fd, target, 3+Reserved)
		}
	}
	if found == 0 {
		t.Error("no epoll fd open: the poller did not start")
	}
}
