package export

import (
	"strings"
	"testing"
)

// The expected forms follow systemd.service(5), "Command lines": specifiers
// ("%%"), C escapes and quotes, then "$" expansion ("$$").
func TestSystemdArg(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"/usr/sbin/nginx", "/usr/sbin/nginx"},
		{"-g", "-g"},
		{"127.0.0.1:80", "127.0.0.1:80"},
		{"daemon off;", `"daemon off;"`},
		{";", `";"`},
		{"", `""`},
		{"a b", `"a b"`},
		{`say "hi"`, `"say \"hi\""`},
		{"it's", `"it's"`},
		{"$HOME", `"$$HOME"`},
		{"${X}y", `"$${X}y"`},
		{"100%", `"100%%"`},
		{"%n", `"%%n"`},
		{`C:\dir\`, `"C:\\dir\\"`},
		{"two\nlines\ttab", `"two\nlines\ttab"`},
		{"bell\a", `"bell\x07"`},
		{"ünïcode", `"ünïcode"`},
	} {
		if got := systemdArg(c.in); got != c.want {
			t.Errorf("systemdArg(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// Environment= splits and unquotes like a command line but expands no "$".
func TestSystemdEnv(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"PATH=/bin", "PATH=/bin"},
		{"GREETING=hello world", `"GREETING=hello world"`},
		{"PRICE=$5 or 10%", `"PRICE=$5 or 10%%"`},
		{`Q="x"\y`, `"Q=\"x\"\\y"`},
	} {
		if got := systemdEnv(c.in); got != c.want {
			t.Errorf("systemdEnv(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestSystemdPath(t *testing.T) {
	for _, c := range []struct{ in, seps, want string }{
		{"/srv/web", "", "/srv/web"},
		{"/srv/my web", "", `"/srv/my web"`},
		{"/srv/100%", "", "/srv/100%%"},
		{"/a:b", "", "/a:b"},
	} {
		got, err := systemdPath("ReadOnlyPaths", c.in, c.seps)
		if err != nil || got != c.want {
			t.Errorf("systemdPath(%q) = %s, %v; want %s", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ in, seps string }{{"/a:b", ":"}, {`/a"b`, ""}, {`/a\b`, ""}, {"/a\nb", ""}, {"/a'b", ""}} {
		if got, err := systemdPath("BindPaths", c.in, c.seps); err == nil || !strings.Contains(err.Error(), "BindPaths") {
			t.Errorf("systemdPath(%q, %q) = %s, %v; want an error naming the directive", c.in, c.seps, got, err)
		}
	}
}

func TestSystemdLine(t *testing.T) {
	if got, err := systemdLine("PIDFile", "/run/a b%.pid"); err != nil || got != "/run/a b%%.pid" {
		t.Errorf("systemdLine = %q, %v", got, err)
	}
	for _, bad := range []string{"/run/x\n.pid", " /run/x", "/run/x "} {
		if _, err := systemdLine("PIDFile", bad); err == nil {
			t.Errorf("systemdLine(%q) took it", bad)
		}
	}
}
