package supervisor

import (
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// The supervisor's own lines carry a time (RFC 3339, to the millisecond),
// so that a log file tells when a daemon failed. When its stderr is
// systemd's journal, which stamps every line itself, they carry instead
// the sd-daemon priority prefix ("<3>"), which the journal reads as the
// line's priority (sd-daemon(3)).

// Priorities, as syslog numbers them.
const (
	prioErr     = 3
	prioWarning = 4
	prioInfo    = 6
)

// stampLayout is RFC 3339 with milliseconds.
const stampLayout = "2006-01-02T15:04:05.000Z07:00"

// logLine formats one of the supervisor's lines: msg with a time, or, for
// the journal, its priority.
func logLine(journal bool, prio int, now time.Time, msg string) string {
	if journal {
		return "<" + strconv.Itoa(prio) + ">" + msg + "\n"
	}
	return now.Format(stampLayout) + " " + msg + "\n"
}

// stderrIsJournal reports whether fd 2 is the stream systemd named in
// JOURNAL_STREAM ("DEV:INO", in decimal): the journal, and not a stream
// the service's stderr was redirected to since.
func stderrIsJournal() bool {
	want, ok := os.LookupEnv("JOURNAL_STREAM")
	if !ok {
		return false
	}
	var st unix.Stat_t
	if unix.Fstat(2, &st) != nil {
		return false
	}
	return want == strconv.FormatUint(st.Dev, 10)+":"+strconv.FormatUint(st.Ino, 10)
}
