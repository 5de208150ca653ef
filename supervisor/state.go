package supervisor

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The supervisor's record of the daemon's past runs, kept in the state
// file beside the pidfile (pidfile.WriteState) so that status can say that
// a daemon failed, how often it was restarted and how it last ended, also
// once the supervisor is gone. A clean stop, a clean end without a restart
// and the next start remove it.

// Record states.
const (
	recRestarting = "restarting" // the daemon ended; the supervisor starts it again
	recFailed     = "failed"     // the supervisor gave up, or does not restart
)

// lastExit is how the daemon's last run ended.
type lastExit struct {
	how  string // "killed by SIGSEGV", "exit status 1"
	code int    // daemonbox's code for it: the status, or 128+n
	at   time.Time
}

// record is what the state file holds.
type record struct {
	state    string
	reason   string // why it failed: "gave up after 5 restarts"
	restarts int
	last     lastExit
}

// text is the record as the state file holds it: key=value lines.
func (r record) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "state=%s\nrestarts=%d\n", r.state, r.restarts)
	if r.reason != "" {
		fmt.Fprintf(&b, "reason=%s\n", oneLine(r.reason))
	}
	if !r.last.at.IsZero() {
		fmt.Fprintf(&b, "last_exit=%s\nlast_code=%d\nlast_at=%s\n", oneLine(r.last.how), r.last.code, r.last.at.Format(time.RFC3339))
	}
	return b.String()
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// parseRecord reads a state file's text; unknown keys are skipped, so that
// a later daemonbox may add some.
func parseRecord(text string) (record, error) {
	var r record
	for _, line := range strings.Split(text, "\n") {
		k, v, _ := strings.Cut(line, "=")
		var err error
		switch k {
		case "state":
			r.state = v
		case "reason":
			r.reason = v
		case "restarts":
			r.restarts, err = strconv.Atoi(v)
		case "last_exit":
			r.last.how = v
		case "last_code":
			r.last.code, err = strconv.Atoi(v)
		case "last_at":
			r.last.at, err = time.Parse(time.RFC3339, v)
		}
		if err != nil {
			return r, fmt.Errorf("%s=%q: %w", k, v, err)
		}
	}
	if r.state != recRestarting && r.state != recFailed {
		return r, fmt.Errorf("state=%q: not %q or %q", r.state, recRestarting, recFailed)
	}
	return r, nil
}

// failedLine is status's line for a failed daemon: "failed: gave up after
// 5 restarts; last exit: killed by SIGSEGV at 2026-12-04T21:20:00Z".
func (r record) failedLine() string {
	s := "failed: " + r.reason
	if r.last.how != "" {
		s += "; last exit: " + r.lastText()
	}
	return s
}

// history is what status adds about past runs: "2 restarts; last exit:
// killed by SIGSEGV at TIME".
func (r record) history() string {
	s := plural(r.restarts, "restart")
	if r.last.how != "" {
		s += "; last exit: " + r.lastText()
	}
	return s
}

func (r record) lastText() string {
	return r.last.how + " at " + r.last.at.Format(time.RFC3339)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
