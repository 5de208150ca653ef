package sandbox

import (
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/spec"
)

// A kept capability that leads out of the root, or into daemonbox's PID 1,
// is refused unless the spec's namespaces contain it.
func TestEscapingCapabilities(t *testing.T) {
	const root = "[filesystem]\nroot = \"/usr\"\n"
	cases := []struct{ doc, want string }{
		{root + "[capabilities]\nkeep = [\"CAP_SYS_CHROOT\"]\n", "CAP_SYS_CHROOT would let the daemon leave the root /usr: it can chroot into a subdirectory and climb out"},
		{root + "[capabilities]\nkeep = [\"CAP_SYS_CHROOT\"]\n[namespaces]\nmount = true\n", ""},
		{root + "[capabilities]\nkeep = [\"CAP_DAC_READ_SEARCH\"]\n[namespaces]\nmount = true\n", "open_by_handle_at"},
		{root + "[capabilities]\nkeep = [\"CAP_SYS_ADMIN\"]\n", "namespaces.user = true"},
		{root + "[capabilities]\nkeep = [\"CAP_MKNOD\"]\n", "device node"},
		{root + "[capabilities]\nkeep = [\"CAP_SYS_PTRACE\"]\n", "set namespaces.pid = true"},
		{root + "[capabilities]\nkeep = [\"CAP_SYS_PTRACE\"]\n[namespaces]\npid = true\ninit = false\n", ""},
		{"[capabilities]\nkeep = [\"CAP_SYS_PTRACE\"]\n[namespaces]\npid = true\n", "trace its namespace's PID 1"},
		{"[capabilities]\nkeep = [\"CAP_SYS_CHROOT\", \"CAP_SYS_ADMIN\"]\n", ""}, // no root to leave
		{root + "[capabilities]\nkeep = [\"CAP_NET_BIND_SERVICE\"]\n", ""},
		{root + "[capabilities]\nkeep = [\"CAP_SETUID\"]\n", "become the user of any process outside the root"},
		{root + "[capabilities]\nkeep = [\"CAP_SETUID\"]\n[namespaces]\npid = true\n", ""},
		{"[capabilities]\nkeep = [\"CAP_SYS_ADMIN\"]\n[namespaces]\nuser = true\nmount = true\nuid_map = [{inside = 0, outside = 1000, count = 1}]\n", "remount writable"},
	}
	for _, c := range cases {
		_, err := plan(t, rootHost(), c.doc)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.doc, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: got %v, want an error containing %q", c.doc, err, c.want)
		}
	}
}

// check warns that a root directory without a PID namespace leaves the host's
// processes of the daemon's ids within its reach.
func TestWarningChrootWithoutPIDNamespace(t *testing.T) {
	for doc, want := range map[string]bool{
		"[filesystem]\nroot = \"/usr\"\n":                           true,
		"[filesystem]\nroot = \"/usr\"\n[namespaces]\npid = true\n": false,
		"": false,
	} {
		s, err := spec.Parse("t.toml", []byte("[process]\ncommand = [\"/bin/true\"]\n[user]\nuser = \"www-data\"\n"+doc))
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewPlan(s, rootHost())
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Contains(strings.Join(Warnings(s, p), "\n"), "trace and signal the host's processes that run as uid 33")
		if got != want {
			t.Errorf("%q: warned %v, want %v", doc, got, want)
		}
	}
}
