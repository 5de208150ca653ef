package sandbox

import (
	"testing"

	"github.com/daemonbox/daemonbox/spec"
)

// A spec without a name key is named for its file, as ps, the pidfile and
// status show it (issue 21 item 4).
func TestPlanName(t *testing.T) {
	for _, c := range []struct{ name, file, want string }{
		{"", "/etc/daemonbox/web.toml", "web"},
		{"", "redis", "redis"},
		{"cache", "/etc/daemonbox/web.toml", "cache"},
	} {
		if got := planName(&spec.Spec{Name: c.name, File: c.file}); got != c.want {
			t.Errorf("name %q, file %q: %q, want %q", c.name, c.file, got, c.want)
		}
	}
}
