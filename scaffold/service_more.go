package scaffold

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/daemonbox/daemonbox/seccomp"
)

// capabilities: daemonbox drops every capability but those kept, and keeps
// them in the bounding, permitted, effective and ambient sets alike, which
// is what a non-root service gets from AmbientCapabilities= (the bounding
// set bounds them). So the kept set is the ambient one, or, for a unit that
// names only a bounding set, that set (a root service's capabilities).
func (t *translation) capabilities(name, value string) {
	if strings.HasPrefix(value, "~") {
		t.note("%s=%s: daemonbox names what it keeps, not what it removes; list the capabilities to keep", name, value)
		return
	}
	caps := strings.Fields(value)
	t.set("capabilities", "drop", `["ALL"]`)
	if name == "AmbientCapabilities" {
		if !t.ambientSet {
			t.add("capabilities", "keep", nil) // the ambient set replaces the bounding set's
		}
		t.ambientSet = true
		t.add("capabilities", "keep", caps)
		return
	}
	t.bounding = append(t.bounding, caps...)
	if !t.ambientSet {
		t.add("capabilities", "keep", caps)
	}
}

// boundingOnly lists what the bounding set allowed beyond the ambient set:
// a non-root daemon could use those only through file capabilities, which
// no_new_privs and daemonbox's empty bounding set rule out.
func (t *translation) boundingOnly() {
	if !t.ambientSet {
		return
	}
	for _, c := range t.bounding {
		if !slices.Contains(t.lists["capabilities"]["keep"], c) {
			t.note("CapabilityBoundingSet=%s: not in AmbientCapabilities=, so not kept", c)
		}
	}
}

func (t *translation) privateTmp(name, value string) {
	if b, ok := yes(value); ok && b {
		t.add("filesystem", "tmpfs", []string{"/tmp"})
	}
}

// paths: ReadOnlyPaths= and InaccessiblePaths=. A "-" prefix (ignore a
// missing path) has no equivalent; the paths under /proc and /sys that
// daemonbox's export writes with it are daemonbox's own hardening, which
// every mount namespace gets anyway.
func (t *translation) paths(name, value string) {
	key := "readonly"
	if name == "InaccessiblePaths" {
		key = "masked"
	}
	var out []string
	for _, p := range strings.Fields(value) {
		p = strings.TrimPrefix(p, "+")
		if strings.HasPrefix(p, "-/proc/") || strings.HasPrefix(p, "-/sys/") {
			continue
		}
		if strings.HasPrefix(p, "-") {
			t.note("%s=%s: the \"-\" prefix (skip a missing path) has no equivalent; daemonbox needs the path to exist", name, p)
			p = p[1:]
		}
		out = append(out, p)
	}
	if len(out) > 0 || value == "" {
		t.add("filesystem", key, out)
	}
}

// temporaryFileSystem: daemonbox's tmpfs is mode 1777, nosuid, nodev; other
// options are listed as lost.
func (t *translation) temporaryFileSystem(name, value string) {
	for _, w := range strings.Fields(value) {
		p, opts, _ := strings.Cut(w, ":")
		if opts != "" && opts != "mode=1777,nosuid,nodev" {
			t.note("%s=%s: options %q are not carried; daemonbox's tmpfs is mode 1777, nosuid, nodev", name, w, opts)
		}
		t.add("filesystem", "tmpfs", []string{p})
	}
}

// bindPaths: SOURCE[:TARGET[:OPTIONS]].
func (t *translation) bindPaths(name, value string) {
	for _, w := range strings.Fields(value) {
		parts := strings.Split(strings.TrimPrefix(w, "-"), ":")
		b := bind{source: parts[0], target: parts[0], readonly: name == "BindReadOnlyPaths"}
		if len(parts) > 1 && parts[1] != "" {
			b.target = parts[1]
		}
		if len(parts) > 2 && parts[2] != "rbind" {
			t.note("%s=%s: option %q is not carried", name, w, parts[2])
		}
		t.binds = append(t.binds, b)
	}
}

// readWritePaths: a writable bind of a path onto itself, which a read-only
// root leaves writable.
func (t *translation) readWritePaths(name, value string) {
	for _, p := range strings.Fields(value) {
		p = strings.TrimPrefix(p, "-")
		t.binds = append(t.binds, bind{source: p, target: p})
	}
}

// systemCallFilter: a list allows; a "~" list denies. An ":ERRNO" per call
// has no equivalent, but clone3:ENOSYS is daemonbox's own rule.
func (t *translation) systemCallFilter(name, value string) {
	key := "allow"
	if strings.HasPrefix(value, "~") {
		key, value = "deny", value[1:]
	}
	var calls []string
	for _, c := range strings.Fields(value) {
		call, errno, hasErrno := strings.Cut(c, ":")
		switch {
		case c == "clone3:ENOSYS" || key == "deny" && slices.Contains(seccomp.BaselineRefused(), c):
			continue // daemonbox's own rules, which every filter of its has
		case hasErrno:
			t.note("%s: %s: a per-call errno (%s) has no equivalent; seccomp.errno applies to every refused call", name, call, errno)
		}
		calls = append(calls, call)
	}
	if len(calls) > 0 || value == "" {
		t.add("seccomp", key, calls)
	}
}

func (t *translation) systemCallErrorNumber(name, value string) {
	if value == "kill" {
		t.set("seccomp", "action", toml("kill"))
		return
	}
	t.set("seccomp", "errno", toml(value))
}

func (t *translation) addressFamilies(name, value string) {
	if strings.HasPrefix(value, "~") || value == "none" {
		t.note("%s=%s: daemonbox lists the families allowed, not those refused", name, value)
		return
	}
	t.add("seccomp", "address_families", strings.Fields(value))
}

// size: bytes, or K, M, G, T (binary in systemd too); a percentage of RAM
// or "infinity" has no equivalent.
func (t *translation) size(name, value string) {
	key := map[string]string{"MemoryMax": "memory_max", "MemorySwapMax": "memory_swap_max"}[name]
	if _, err := strconv.ParseUint(value, 10, 64); err == nil {
		t.set("resources", key, value)
		return
	}
	for _, u := range []string{"K", "M", "G", "T"} {
		if n, ok := strings.CutSuffix(value, u); ok {
			if _, err := strconv.ParseUint(n, 10, 64); err == nil {
				t.set("resources", key, toml(n+u+"iB"))
				return
			}
		}
	}
	t.note("%s=%s: daemonbox takes a size in bytes or KiB, MiB, GiB", name, value)
}

// timeout reads systemd's time span ("90", "5s", "1min 30s") into a Go
// duration.
func (t *translation) timeout(name, value string) {
	d, ok := timeSpan(value)
	switch {
	case !ok:
		t.note("%s=%s: not a time span daemonbox can read", name, value)
	case name == "TimeoutStopSec":
		t.set("signals", "stop_timeout", toml(d.String()))
	case t.notify:
		t.set("daemon", "ready_timeout", toml(d.String()))
	default:
		t.startTimeout = value
	}
}

var spanUnits = []struct {
	suffix string
	unit   time.Duration
}{
	{"usec", time.Microsecond}, {"us", time.Microsecond}, {"msec", time.Millisecond}, {"ms", time.Millisecond},
	{"seconds", time.Second}, {"second", time.Second}, {"sec", time.Second}, {"s", time.Second},
	{"minutes", time.Minute}, {"minute", time.Minute}, {"min", time.Minute}, {"m", time.Minute},
	{"hours", time.Hour}, {"hour", time.Hour}, {"hr", time.Hour}, {"h", time.Hour},
	{"days", 24 * time.Hour}, {"day", 24 * time.Hour}, {"d", 24 * time.Hour},
}

func timeSpan(s string) (time.Duration, bool) {
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return time.Duration(n) * time.Second, n > 0
	}
	var total time.Duration
	for _, w := range strings.Fields(s) {
		d, ok := spanWord(w)
		if !ok {
			return 0, false
		}
		total += d
	}
	return total, total > 0
}

// spanWord reads one "5s" or "1min".
func spanWord(w string) (time.Duration, bool) {
	for _, u := range spanUnits {
		if n, ok := strings.CutSuffix(w, u.suffix); ok {
			v, err := strconv.ParseUint(n, 10, 32)
			return time.Duration(v) * u.unit, err == nil
		}
	}
	return 0, false
}
