package caps

import (
	"strconv"
	"strings"
)

// names lists the capabilities by number (linux/capability.h): the one
// table of capability names, for the spec's keys and every message.
var names = []string{
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

// Name is the kernel's name for capability n ("CAP_NET_RAW"); one newer
// than this table is "CAP_n".
func Name(n int) string {
	if n >= 0 && n < len(names) {
		return names[n]
	}
	return "CAP_" + strconv.Itoa(n)
}

// Number accepts "CAP_NET_RAW", "cap_net_raw" and "net_raw".
func Number(name string) (int, bool) {
	up := strings.ToUpper(name)
	if !strings.HasPrefix(up, "CAP_") {
		up = "CAP_" + up
	}
	for i, n := range names {
		if n == up {
			return i, true
		}
	}
	return 0, false
}

// Names lists every capability this table knows, for suggestions.
func Names() []string { return names }

// Of is the set of the given capabilities.
func Of(ns ...int) Set {
	var s Set
	for _, n := range ns {
		s |= 1 << uint(n)
	}
	return s
}

// Names lists the set's capabilities by name, in numeric order.
func (s Set) Names() []string {
	var out []string
	for n := 0; n < 64; n++ {
		if s.Has(n) {
			out = append(out, Name(n))
		}
	}
	return out
}
