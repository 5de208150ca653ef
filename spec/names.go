package spec

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// The spec's vocabulary: capability, signal and resource names with their Linux
// numbers. They live here, not in caps or rlimit, so that a misspelled name is
// caught while the file is decoded, with its line and column, and so that spec
// depends on nothing else of ours.

// capNames lists the capabilities by number (linux/capability.h).
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// CapName returns the canonical name of capability n.
func CapName(n int) string {
	if n >= 0 && n < len(capNames) {
		return capNames[n]
	}
	return "CAP_" + strconv.Itoa(n)
}

// capNumber accepts "CAP_NET_RAW", "cap_net_raw" and "net_raw".
func capNumber(name string) (int, bool) {
	up := strings.ToUpper(name)
	if !strings.HasPrefix(up, "CAP_") {
		up = "CAP_" + up
	}
	for i, n := range capNames {
		if n == up {
			return i, true
		}
	}
	return 0, false
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
