package spec

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/rlimit"
)

func (d *decoder) namespaces(v any) {
	m, ok := d.table("namespaces", v, namespaceKeys)
	if !ok {
		return
	}
	n := &d.s.Namespaces
	flags := map[string]*bool{"pid": &n.PID, "mount": &n.Mount, "network": &n.Network,
		"ipc": &n.IPC, "uts": &n.UTS, "cgroup": &n.Cgroup, "user": &n.User}
	each(m, namespaceKeys, func(k string, x any) {
		key := "namespaces." + k
		switch k {
		case "hostname":
			n.Hostname, _ = d.str(key, x)
		case "uid_map", "gid_map":
			maps := d.idMaps(key, x)
			if k == "uid_map" {
				n.UIDMap = maps
			} else {
				n.GIDMap = maps
			}
		case "init":
			if b, ok := d.boolean(key, x); ok {
				n.NoInit = !b
			}
		default:
			if b, ok := d.boolean(key, x); ok {
				*flags[k] = b
			}
		}
	})
	if n.Hostname != "" && !n.UTS {
		d.fail("namespaces.hostname", "hostname requires uts = true")
	}
	if _, set := m["init"]; set && !n.PID {
		d.fail("namespaces.init", "init requires pid = true")
	}
	for _, k := range []string{"uid_map", "gid_map"} {
		if _, set := m[k]; set && !n.User {
			d.fail("namespaces."+k, "%s requires user = true", k)
		}
	}
}

// implyMount turns the mount namespace on for what needs it, as the format
// says: a PID namespace (its /proc), and every mount in [filesystem].
func (d *decoder) implyMount() {
	f := &d.s.Filesystem
	if d.s.Namespaces.PID || len(f.Readonly) > 0 || len(f.Masked) > 0 || len(f.Tmpfs) > 0 ||
		len(f.Bind) > 0 || f.Dev != nil && *f.Dev {
		d.s.Namespaces.Mount = true
	}
}

func (d *decoder) idMaps(key string, v any) []IDMap {
	var out []IDMap
	d.array(key, v, func(i int, e any) {
		k := key + "[" + strconv.Itoa(i) + "]"
		m, ok := d.table(k, e, idMapKeys)
		if !ok {
			return
		}
		var vals [3]uint32
		whole := true
		for j, name := range idMapKeys {
			x, ok := m[name]
			if !ok {
				d.fail(k, "%s is required", name)
				whole = false
				continue
			}
			n, ok := d.integer(k+"."+name, x, 0, MaxID)
			vals[j], whole = uint32(n), whole && ok
		}
		line := IDMap{Inside: vals[0], Outside: vals[1], Count: vals[2]}
		if problem := badMapLine(out, line); whole && problem != "" {
			d.failElem(key, i, "%s", problem)
		}
		out = append(out, line)
	})
	if len(out) > maxMapLines {
		d.fail(key, "%d lines; the kernel takes at most %d", len(out), maxMapLines)
	}
	return out
}

// maxMapLines is the kernel's limit on the lines of uid_map and gid_map.
const maxMapLines = 340

// badMapLine says what is wrong with e after the lines before it: the
// kernel refuses a map whose ranges overlap inside or outside.
func badMapLine(before []IDMap, e IDMap) string {
	if e.Count == 0 {
		return "count must be at least 1"
	}
	if uint64(e.Inside)+uint64(e.Count)-1 > MaxID || uint64(e.Outside)+uint64(e.Count)-1 > MaxID {
		return fmt.Sprintf("the range runs past the largest id, %d", uint64(MaxID))
	}
	for _, o := range before {
		if overlap(o.Inside, o.Count, e.Inside, e.Count) {
			return fmt.Sprintf("inside ids %d-%d overlap an earlier line", e.Inside, e.Inside+e.Count-1)
		}
		if overlap(o.Outside, o.Count, e.Outside, e.Count) {
			return fmt.Sprintf("outside ids %d-%d overlap an earlier line", e.Outside, e.Outside+e.Count-1)
		}
	}
	return ""
}

func overlap(a, n, b, m uint32) bool {
	return uint64(a) < uint64(b)+uint64(m) && uint64(b) < uint64(a)+uint64(n)
}

// Contains reports whether id is one of the inside ids of the map.
func Contains(maps []IDMap, id uint32) bool {
	_, ok := Outside(maps, id)
	return ok
}

// Outside is the id outside the namespace that inside id maps to.
func Outside(maps []IDMap, id uint32) (uint32, bool) {
	for _, m := range maps {
		if id >= m.Inside && uint64(id) < uint64(m.Inside)+uint64(m.Count) {
			return m.Outside + (id - m.Inside), true
		}
	}
	return 0, false
}

func (d *decoder) capabilities(v any) {
	m, ok := d.table("capabilities", v, capKeys)
	if !ok {
		return
	}
	c := &d.s.Capabilities
	if x, ok := m["drop"]; ok {
		c.DropAll, c.Drop = d.capList("capabilities.drop", x)
	}
	if x, ok := m["keep"]; ok {
		c.KeepAll, c.Keep = d.capList("capabilities.keep", x)
	}
	if both := c.Drop & c.Keep; both != 0 {
		d.fail("capabilities.keep", "%s both dropped and kept", strings.Join(both.Names(), ", "))
	}
}

func (d *decoder) capList(key string, v any) (all bool, set caps.Set) {
	names, ok := d.strings(key, v)
	if !ok {
		return false, 0
	}
	for i, name := range names {
		if strings.EqualFold(name, "ALL") {
			all = true
			continue
		}
		n, ok := caps.Number(name)
		if !ok {
			d.failElem(key, i, "unknown capability %q%s", name, didYouMean(strings.ToUpper(name), caps.Names()))
			continue
		}
		set |= 1 << uint(n)
	}
	return all, set
}

func (d *decoder) rlimits(v any) {
	m, ok := d.table("rlimits", v, rlimitKeys())
	if !ok {
		return
	}
	for _, info := range rlimitTable {
		x, ok := m[info.name]
		if !ok {
			continue
		}
		key := "rlimits." + info.name
		if soft, hard, ok := d.rlimit(key, info, x); ok {
			d.s.Rlimits[info.resource] = &rlimit.Limit{Name: info.name, Resource: info.resource, Soft: soft, Hard: hard}
		}
	}
}

// rlimit decodes a bare value (soft = hard) or a { soft, hard } table.
func (d *decoder) rlimit(key string, info rlimitInfo, v any) (soft, hard uint64, ok bool) {
	t, isTable := v.(map[string]any)
	if !isTable {
		n, ok := d.limitValue(key, info, v)
		return n, n, ok
	}
	if _, ok := d.table(key, t, []string{"soft", "hard"}); !ok {
		return 0, 0, false
	}
	sv, hasSoft := t["soft"]
	hv, hasHard := t["hard"]
	if !hasSoft || !hasHard {
		d.fail(key, "a table needs both soft and hard (a bare value sets both)")
		return 0, 0, false
	}
	soft, ok1 := d.limitValue(key+".soft", info, sv)
	hard, ok2 := d.limitValue(key+".hard", info, hv)
	if ok1 && ok2 && soft > hard {
		d.fail(key+".soft", "soft limit %s is above hard limit %s", FormatLimit(info.resource, soft), FormatLimit(info.resource, hard))
		return 0, 0, false
	}
	return soft, hard, ok1 && ok2
}

func (d *decoder) limitValue(key string, info rlimitInfo, v any) (uint64, bool) {
	if s, ok := v.(string); ok && (s == "unlimited" || s == "infinity") {
		return rlimit.Unlimited, true
	}
	n, err := limitNumber(info.unit, v)
	if err != "" {
		d.fail(key, "%s", err)
		return 0, false
	}
	return n, true
}

func limitNumber(unit unitKind, v any) (uint64, string) {
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return 0, "must not be negative"
		}
		switch {
		case unit == unitNice && x > 40:
			return 0, "nice limit is 0 to 40 (the ceiling is 20 - limit)"
		case unit == unitPriority && x > 99:
			return 0, "rtprio is 0 to 99"
		}
		return uint64(x), ""
	case string:
		switch unit {
		case unitBytes:
			return parseSize(x)
		case unitSeconds:
			return parseDuration(x, time.Second)
		case unitMicroseconds:
			return parseDuration(x, time.Microsecond)
		}
		return 0, "expected an integer or \"unlimited\", got " + describe(v)
	}
	return 0, "expected an integer, a string or \"unlimited\", got " + describe(v)
}

var sizeUnits = []struct {
	suffix string
	shift  uint
}{
	{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}, {"PiB", 50}, {"EiB", 60},
	{"K", 10}, {"M", 20}, {"G", 30}, {"T", 40}, {"P", 50}, {"E", 60}, {"B", 0},
}

// parseSize reads "512MiB", "4K" or "100" (bytes). Units are binary (IEC).
func parseSize(s string) (uint64, string) {
	num, shift := s, uint(0)
	for _, u := range sizeUnits {
		if strings.HasSuffix(s, u.suffix) {
			num, shift = strings.TrimSuffix(s, u.suffix), u.shift
			break
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
	if err != nil {
		return 0, "\"" + s + "\" is not a size: use bytes or a unit KiB, MiB, GiB, TiB (or \"unlimited\")"
	}
	if shift > 0 && n > (rlimit.Unlimited>>shift) {
		return 0, "\"" + s + "\" is too large"
	}
	return n << shift, ""
}

// parseDuration reads a Go duration ("30s", "1h30m") as a whole number of units.
func parseDuration(s string, unit time.Duration) (uint64, string) {
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, "\"" + s + "\" is not a duration (e.g. \"30s\", \"5m\")"
	}
	if d%unit != 0 {
		return 0, "\"" + s + "\" is not a whole number of " + unitName(unit)
	}
	return uint64(d / unit), ""
}

func unitName(u time.Duration) string {
	if u == time.Second {
		return "seconds"
	}
	return "microseconds"
}

// FormatLimit renders a limit value as written in a spec ("unlimited", "512MiB", "30s").
func FormatLimit(resource int, n uint64) string {
	if n == rlimit.Unlimited {
		return "unlimited"
	}
	unit := unitCount
	for _, info := range rlimitTable {
		if info.resource == resource {
			unit = info.unit
		}
	}
	switch unit {
	case unitBytes:
		for i := len(sizeUnits[:6]) - 1; i >= 0; i-- {
			u := sizeUnits[i]
			if n != 0 && n%(1<<u.shift) == 0 {
				return strconv.FormatUint(n>>u.shift, 10) + u.suffix
			}
		}
	case unitSeconds:
		return strconv.FormatUint(n, 10) + "s"
	case unitMicroseconds:
		return strconv.FormatUint(n, 10) + "us"
	}
	return strconv.FormatUint(n, 10)
}

func (d *decoder) fds(v any) {
	m, ok := d.table("fds", v, fdKeys)
	if !ok {
		return
	}
	f := &d.s.FDs
	streams := map[string]*Stdio{"stdin": &f.Stdin, "stdout": &f.Stdout, "stderr": &f.Stderr}
	each(m, fdKeys, func(k string, x any) {
		key := "fds." + k
		switch k {
		case "preserve":
			f.Preserve = d.preserve(key, x)
		case "listen":
			f.Listen = d.listen(key, x)
			d.notYet(key, len(f.Listen) > 0, "listen sockets arrive in a later release")
		default:
			if st, ok := d.stdio(key, x); ok {
				*streams[k] = st
			}
		}
	})
}

func (d *decoder) stdio(key string, v any) (Stdio, bool) {
	s, ok := d.str(key, v)
	if !ok {
		return Stdio{}, false
	}
	switch s {
	case "null":
		return Stdio{Kind: StdioNull}, true
	case "inherit":
		return Stdio{Kind: StdioInherit}, true
	}
	if problem := pathProblem(s); problem != "" {
		d.fail(key, "%q: expected \"null\", \"inherit\" or a file path, and it %s", s, problem)
		return Stdio{}, false
	}
	return Stdio{Kind: StdioFile, Path: s}, true
}

// MaxPreservedFD bounds fds.preserve; the kernel's own ceiling is fs.nr_open.
const MaxPreservedFD = 1 << 20

func (d *decoder) preserve(key string, v any) []int {
	var out []int
	seen := map[int64]bool{}
	d.array(key, v, func(i int, e any) {
		n, ok := e.(int64)
		switch {
		case !ok:
			d.failElem(key, i, "element %d: expected an fd number, got %s", i, describe(e))
		case n < 3:
			d.failElem(key, i, "fd %d is a standard stream: set fds.%s = \"inherit\" instead", n, []string{"stdin", "stdout", "stderr"}[max(n, 0)])
		case n > MaxPreservedFD:
			d.failElem(key, i, "fd %d is out of range (3 to %d)", n, MaxPreservedFD)
		case seen[n]:
			d.failElem(key, i, "fd %d is listed twice", n)
		default:
			seen[n] = true
			out = append(out, int(n))
		}
	})
	return out
}

func (d *decoder) listen(key string, v any) []Listen {
	var out []Listen
	d.array(key, v, func(i int, e any) {
		k := key + "[" + strconv.Itoa(i) + "]"
		m, ok := d.table(k, e, listenKeys)
		if !ok {
			return
		}
		var l Listen
		if x, ok := m["name"]; ok {
			l.Name, _ = d.str(k+".name", x)
		}
		if x, ok := m["address"]; !ok {
			d.fail(k, "address is required")
		} else if a, ok := d.str(k+".address", x); ok {
			if !hasAnyPrefix(a, "tcp://", "tcp6://", "udp://", "udp6://", "unix://") {
				d.fail(k+".address", "%q: expected tcp://, tcp6://, udp://, udp6:// or unix://", a)
			}
			l.Address = a
		}
		out = append(out, l)
	})
	return out
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

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
		d.fail(key, "unknown signal %q%s", name, didYouMean(strings.ToUpper(name), signalList()))
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
			d.failElem(key, i, "unknown signal %q%s", name, didYouMean(strings.ToUpper(name), signalList()))
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

// duration reads a Go duration string or whole seconds, above 0 and at
// most a day.
func (d *decoder) duration(key string, v any) (time.Duration, bool) {
	var t time.Duration
	switch x := v.(type) {
	case int64:
		t = time.Duration(x) * time.Second
	case string:
		var err error
		if t, err = time.ParseDuration(x); err != nil {
			d.fail(key, "%q is not a duration (e.g. \"10s\")", x)
			return 0, false
		}
	default:
		d.fail(key, "expected a duration string or seconds, got %s", describe(v))
		return 0, false
	}
	if t <= 0 || t > 24*time.Hour {
		d.fail(key, "must be above 0 and at most 24h")
		return 0, false
	}
	return t, true
}

func (d *decoder) daemon(v any) {
	m, ok := d.table("daemon", v, daemonKeys)
	if !ok {
		return
	}
	dm := &d.s.Daemon
	each(m, daemonKeys, func(k string, x any) {
		key := "daemon." + k
		switch k {
		case "detach":
			dm.Detach, _ = d.boolean(key, x)
		case "pidfile":
			dm.Pidfile, _ = d.absPath(key, x)
		case "restart":
			if s, ok := d.choice(key, x, string(RestartNo), string(RestartOnFailure), string(RestartAlways)); ok {
				dm.Restart = Restart(s)
			}
		case "ready":
			if s, ok := d.choice(key, x, string(ReadyExec), string(ReadyNotify)); ok {
				dm.Ready = Ready(s)
			}
		case "ready_timeout":
			if t, ok := d.duration(key, x); ok {
				dm.ReadyTimeout = t
			}
		}
	})
}

func (d *decoder) choice(key string, v any, choices ...string) (string, bool) {
	s, ok := d.str(key, v)
	if !ok {
		return "", false
	}
	if !slices.Contains(choices, s) {
		d.fail(key, "%q: expected one of %q%s", s, choices, didYouMean(s, choices))
		return "", false
	}
	return s, true
}
