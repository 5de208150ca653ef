package supervisor

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestLogLine(t *testing.T) {
	at := time.Date(2026, 12, 4, 21, 20, 0, 5e6, time.FixedZone("", 3600))
	if got, want := logLine(false, prioErr, at, "daemonbox: web: x"), "2026-12-04T21:20:00.005+01:00 daemonbox: web: x\n"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z `).MatchString(logLine(false, prioInfo, at.UTC(), "m")) {
		t.Error("not RFC 3339 in UTC")
	}
	if got, want := logLine(true, prioWarning, at, "daemonbox: web: x"), "<4>daemonbox: web: x\n"; got != want {
		t.Errorf("journal: %q, want %q", got, want)
	}
}

// The journal is recognised by stderr's device and inode, not by the
// variable alone: a stderr redirected since systemd set it is not it.
func TestStderrIsJournal(t *testing.T) {
	var st unix.Stat_t
	if err := unix.Fstat(2, &st); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JOURNAL_STREAM", strconv.FormatUint(st.Dev, 10)+":"+strconv.FormatUint(st.Ino, 10))
	if !stderrIsJournal() {
		t.Error("stderr's own dev:ino not recognised")
	}
	t.Setenv("JOURNAL_STREAM", strconv.FormatUint(st.Dev, 10)+":"+strconv.FormatUint(st.Ino+1, 10))
	if stderrIsJournal() {
		t.Error("another inode taken for the journal")
	}
}
