package supervisor

import (
	"strings"
	"testing"
	"time"
)

func TestStateRecordRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 4, 21, 20, 0, 0, time.UTC)
	r := record{state: recFailed, reason: "gave up after 5 restarts", restarts: 5,
		last: lastExit{how: "killed by SIGSEGV", code: 139, at: at}}
	got, err := parseRecord(r.text())
	if err != nil || got != r {
		t.Fatalf("%+v %v, want %+v", got, err, r)
	}
	if want := "failed: gave up after 5 restarts; last exit: killed by SIGSEGV at 2026-12-04T21:20:00Z"; r.failedLine() != want {
		t.Errorf("%q, want %q", r.failedLine(), want)
	}
	r.restarts = 1
	if want := "1 restart; last exit: killed by SIGSEGV at 2026-12-04T21:20:00Z"; r.history() != want {
		t.Errorf("%q, want %q", r.history(), want)
	}
}

func TestStateRecordRefused(t *testing.T) {
	for _, text := range []string{"", "state=running\n", "state=failed\nrestarts=x\n", "state=failed\nlast_at=yesterday\n"} {
		if _, err := parseRecord(text); err == nil {
			t.Errorf("%q was accepted", text)
		}
	}
	// A newline in a message cannot add a key.
	r := record{state: recRestarting, last: lastExit{how: "x\nstate=failed", at: time.Unix(0, 0)}}
	if got, err := parseRecord(r.text()); err != nil || got.state != recRestarting || strings.Contains(got.last.how, "\n") {
		t.Errorf("%+v %v", got, err)
	}
}
