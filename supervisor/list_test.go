package supervisor

import "testing"

func TestListName(t *testing.T) {
	for file, want := range map[string][2]string{
		"web.pid":          {"web", ".pid"},
		"web.pid.state":    {"web", ".pid.state"},
		"web.cgroup":       {"web", ".cgroup"},
		"a.b.pid":          {"a.b", ".pid"},
		".web.pid.123.0":   {"", ""},
		".pid":             {"", ""},
		"web.sock":         {"", ""},
		".web.pid.state.1": {"", ""},
	} {
		if n, k := listName(file); n != want[0] || k != want[1] {
			t.Errorf("%s: %q %q, want %q", file, n, k, want)
		}
	}
}
