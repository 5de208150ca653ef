package spec

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// Values that several tables take: paths, durations, choices.

func (d *decoder) absPath(key string, v any) (string, bool) {
	s, ok := d.str(key, v)
	if !ok {
		return "", false
	}
	if problem := pathProblem(s); problem != "" {
		d.fail(key, "%q %s", s, problem)
		return "", false
	}
	return s, true
}

func pathProblem(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "is not an absolute path"
	case path.Clean(p) != p:
		return fmt.Sprintf("is not canonical (write %q)", path.Clean(p))
	}
	return ""
}

func (d *decoder) paths(key string, v any) []string {
	list, ok := d.strings(key, v)
	if !ok {
		return nil
	}
	for i, p := range list {
		if problem := pathProblem(p); problem != "" {
			d.failElem(key, i, "%q %s", p, problem)
		}
	}
	return list
}

// notYet refuses a key this build parses but cannot apply: ignoring it would
// give the operator less confinement than the spec says.
func (d *decoder) notYet(key string, set bool, why string) {
	if set {
		d.fail(key, "not supported yet (%s)", why)
	}
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
