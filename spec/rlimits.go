package spec

import (
	"strconv"
	"strings"
	"time"

	"github.com/daemonbox/daemonbox/rlimit"
)

// [rlimits]: the sixteen Linux resource limits, by their spec keys, with
// units (sizes, durations) where the kernel's numbers are hard to read.

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
