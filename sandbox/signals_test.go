package sandbox

import (
	"os"
	"os/signal"
	"testing"

	"golang.org/x/sys/unix"
)

// processIgnored, asked of rt_sigaction, is SigIgn from /proc/self/status,
// with a signal ignored through Go's runtime and one set raw.
func TestProcessIgnoredIsSigIgn(t *testing.T) {
	signal.Ignore(unix.SIGUSR2)
	defer signal.Reset(unix.SIGUSR2)
	if err := setDisposition(int(unix.SIGTTIN), true); err != nil {
		t.Fatal(err)
	}
	defer setDisposition(int(unix.SIGTTIN), false)
	got, err := processIgnored()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	st, err := parseStatus(b)
	if err != nil {
		t.Fatal(err)
	}
	if got != st.SigIgn {
		t.Errorf("processIgnored %#x, SigIgn %#x", got, st.SigIgn)
	}
	if want := uint64(1<<(unix.SIGUSR2-1) | 1<<(unix.SIGTTIN-1)); got&want != want {
		t.Errorf("processIgnored %#x lacks SIGUSR2 and SIGTTIN (%#x)", got, want)
	}
}
