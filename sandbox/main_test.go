package sandbox

import (
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// TestMain: under nohup, or as a script's background job, the tests start
// with SIGHUP or SIGINT ignored, which the one-image checks rightly count
// against this process. Catching them gives the process, and the children
// some tests start, the default action again; one that comes is dropped, as
// it was ignored before.
func TestMain(m *testing.M) {
	for _, sig := range []os.Signal{syscall.SIGHUP, syscall.SIGINT} {
		if signal.Ignored(sig) {
			signal.Notify(make(chan os.Signal, 1), sig)
		}
	}
	os.Exit(m.Run())
}
