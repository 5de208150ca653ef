package spec

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// [signals]: ignored signals, stop, reload and parent death. Signal names
// and Linux numbers (x86, arm and the generic ABI agree on these) are here,
// so that a misspelled name is caught while the file is decoded, with its
// line and column.

var (
	signalKeys = []string{"ignore", "stop", "stop_timeout", "reload", "parent_death"}
)

func (d *decoder) signals(v any) {
	m, ok := d.table("signals", v, signalKeys)
	if !ok {
		return
	}
	s := &d.s.Signals
	each(m, signalKeys, func(k string, x any) {
		key := "signals." + k
		switch k {
		case "ignore":
			s.Ignore = d.ignoreList(key, x)
		case "stop":
			s.Stop, _ = d.signal(key, x)
		case "reload":
			s.Reload, _ = d.signal(key, x)
		case "parent_death":
			if str, ok := x.(string); ok && str == "none" {
				s.ParentDeath = 0
			} else if n, ok := d.signal(key, x); ok {
				s.ParentDeath = n
			}
		case "stop_timeout":
			if t, ok := d.duration(key, x); ok {
				d.s.Signals.StopTimeout = t
			}
		}
	})
}

func (d *decoder) signal(key string, v any) (int, bool) {
	name, ok := d.str(key, v)
	if !ok {
		return 0, false
	}
	n, ok := signalNumber(name)
	if !ok {
		d.fail(key, "unknown signal %q%s", name, didYouMeanPrefixed(name, "SIG", signalList()))
	}
	return n, ok
}

func (d *decoder) ignoreList(key string, v any) []int {
	names, ok := d.strings(key, v)
	if !ok {
		return nil
	}
	out := []int{}
	for i, name := range names {
		n, ok := signalNumber(name)
		switch {
		case !ok:
			d.failElem(key, i, "unknown signal %q%s", name, didYouMeanPrefixed(name, "SIG", signalList()))
		case n == 9 || n == 19:
			d.failElem(key, i, "%s cannot be ignored", SignalName(n))
		case slices.Contains(out, n):
			d.failElem(key, i, "%s is listed twice", SignalName(n))
		default:
			out = append(out, n)
		}
	}
	return out
}

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
