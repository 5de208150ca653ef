package spec

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The spec's vocabulary: signal and resource names with their Linux numbers,
// so that a misspelled name is caught while the file is decoded, with its
// line and column. Capability names are caps's (caps.Name, caps.Number).

// signalNames[n] is signal n's name; Linux numbers (x86, arm and the generic
// ABI agree on these). An array, not a map: a map literal is built at start-up,
// on every launch.
var signalNames = [...]string{
	1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP",
	6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1",
	11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
	16: "SIGSTKFLT", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP",
	21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ",
	26: "SIGVTALRM", 27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR",
	31: "SIGSYS",
}

// SignalName returns "SIGTERM" for 15.
func SignalName(n int) string {
	if n > 0 && n < len(signalNames) {
		return signalNames[n]
	}
	return "signal " + strconv.Itoa(n)
}

// signalNumber accepts "SIGTERM", "sigterm" and "TERM".
func signalNumber(name string) (int, bool) {
	up := strings.ToUpper(name)
	if !strings.HasPrefix(up, "SIG") {
		up = "SIG" + up
	}
	for n, s := range signalNames {
		if n > 0 && s == up {
			return n, true
		}
	}
	return 0, false
}

func signalList() []string {
	out := slices.Clone(signalNames[1:])
	sort.Strings(out)
	return out
}

// unitKind says how an rlimit's value is written.
type unitKind int

const (
	unitCount unitKind = iota
	unitBytes
	unitSeconds      // cpu: whole seconds, or a duration
	unitMicroseconds // rttime: microseconds, or a duration
	unitNice         // 0..40: the ceiling is 20 - limit
	unitPriority     // 0..99
)

type rlimitInfo struct {
	name     string
	resource int // RLIMIT_* on Linux
	unit     unitKind
}

// Rlimits lists all sixteen Linux resource limits by their spec key.
var rlimitTable = []rlimitInfo{
	{"cpu", 0, unitSeconds}, {"fsize", 1, unitBytes}, {"data", 2, unitBytes},
	{"stack", 3, unitBytes}, {"core", 4, unitBytes}, {"rss", 5, unitBytes},
	{"nproc", 6, unitCount}, {"nofile", 7, unitCount}, {"memlock", 8, unitBytes},
	{"as", 9, unitBytes}, {"locks", 10, unitCount}, {"sigpending", 11, unitCount},
	{"msgqueue", 12, unitBytes}, {"nice", 13, unitNice}, {"rtprio", 14, unitPriority},
	{"rttime", 15, unitMicroseconds},
}

// NumRlimits is the number of resource limits a spec can set.
const NumRlimits = 16

// RlimitName returns the spec key of resource r ("nofile" for RLIMIT_NOFILE).
func RlimitName(r int) string {
	for _, info := range rlimitTable {
		if info.resource == r {
			return info.name
		}
	}
	return "rlimit " + strconv.Itoa(r)
}

func rlimitKeys() []string {
	out := make([]string, len(rlimitTable))
	for i, info := range rlimitTable {
		out[i] = info.name
	}
	return out
}
