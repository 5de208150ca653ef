package spec

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/daemonbox/daemonbox/rlimit"
)

func mustParse(t *testing.T, doc string) *Spec {
	t.Helper()
	s, err := Parse("t.toml", []byte(doc))
	if err != nil {
		t.Fatalf("unexpected errors:\n%v", err)
	}
	return s
}

func TestDefaults(t *testing.T) {
	s := mustParse(t, "[process]\ncommand = [\"/bin/true\"]\n")
	p := s.Process
	if p.Cwd != "/" || p.Umask != 0o022 || !p.NoNewPrivileges || p.OOMScoreAdj != nil {
		t.Errorf("process defaults: %+v", p)
	}
	if s.Filesystem.Root != "/" || !s.Capabilities.DropAll || s.Capabilities.Keep != 0 {
		t.Errorf("root %q, caps %+v", s.Filesystem.Root, s.Capabilities)
	}
	if core := s.Rlimits[4]; core == nil || core.Soft != 0 || core.Hard != 0 {
		t.Errorf("core limit %+v, want 0/0", core)
	}
	for r, l := range s.Rlimits {
		if r != 4 && l != nil {
			t.Errorf("%s is set by default", RlimitName(r))
		}
	}
	if s.FDs.Stdin.Kind != StdioNull || s.FDs.Stdout.Kind != StdioInherit || len(s.FDs.Preserve) != 0 {
		t.Errorf("fds %+v", s.FDs)
	}
	sig := s.Signals
	if !slices.Equal(sig.Ignore, []int{21, 22, 20}) || sig.Stop != 15 || sig.StopTimeout != 10*time.Second || sig.ParentDeath != 9 {
		t.Errorf("signals %+v", sig)
	}
	if env := s.Environ(noEnv, nil); !slices.Equal(env, []string{"PATH=" + DefaultPath}) {
		t.Errorf("environment %q, want PATH only", env)
	}
}

func noEnv(string) (string, bool) { return "", false }

// The reference example of spec-format.md parses whole, but for one
// mistake: it preserves fd 3, where its listen socket arrives.
func TestDesignExample(t *testing.T) {
	doc, err := os.ReadFile("../../shared/design/spec-format.md")
	if err != nil {
		t.Skip("the design documents are not beside this checkout")
	}
	text := string(doc)
	start := strings.Index(text, "```toml\n") + len("```toml\n")
	end := strings.Index(text[start:], "```")
	_, err = Parse("design.toml", []byte(text[start:start+end]))
	var got []string
	for _, e := range List(err) {
		got = append(got, e.(*Error).Path)
	}
	want := []string{"fds.preserve"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("errors at %q\nwant %q\n%v", got, want, err)
	}
	if !strings.Contains(err.Error(), "fd 3 is where a listen socket arrives") {
		t.Error(err)
	}
}

func TestErrorMessages(t *testing.T) {
	const cmd = "[process]\ncommand = [\"/bin/true\"]\n"
	cases := []struct{ doc, want string }{
		{"", "t.toml:1:1: file is empty: process.command is required"},
		{"a = \"\x00\"", "t.toml:1:6: NUL byte"},
		{"# \xff", "t.toml:1:3: invalid UTF-8"},
		{"capabilites = 1\n" + cmd, `t.toml:1:1: unknown key "capabilites" (did you mean "capabilities"?)`},
		{cmd + "cwdd = \"/\"\n", `t.toml:3:1: process: unknown key "cwdd" (did you mean "cwd"?)`},
		{cmd + "[capabilities]\nkeep = [\"CAP_NET_BIND_SERIVCE\"]\n", `t.toml:4:9: capabilities.keep: unknown capability "CAP_NET_BIND_SERIVCE" (did you mean "CAP_NET_BIND_SERVICE"?)`},
		{cmd + "[seccomp]\naddress_families = [\"AF_INET\", \"AF_INTE6\"]\n", `t.toml:4:32: seccomp.address_families: unknown address family "AF_INTE6" ("all" alone lifts the check) (did you mean "AF_INET6"?)`},
		{cmd + "umask = 22\n", `t.toml:3:9: process.umask: 22 is a decimal integer; write it in octal: 0o22 or "22"`},
		{cmd + "umask = \"0800\"\n", `t.toml:3:9: process.umask: 0800 is not a umask: use 0o000 to 0o777`},
		{cmd + "[user]\nuser = 4294967295\n", "t.toml:4:8: user.user: 4294967295 is out of range (0 to 4294967294)"},
		{cmd + "[user]\ngroups = [1, \"x\", 1]\n", "t.toml:4:19: user.groups: 1 is listed twice"},
		{cmd + "[rlimits]\nnofile = { soft = 20, hard = 10 }\n", "t.toml:4:19: rlimits.nofile.soft: soft limit 20 is above hard limit 10"},
		{cmd + "[rlimits]\nas = \"12XB\"\n", `t.toml:4:6: rlimits.as: "12XB" is not a size: use bytes or a unit KiB, MiB, GiB, TiB (or "unlimited")`},
		{cmd + "[rlimits]\nnofile = \"1KiB\"\n", `t.toml:4:10: rlimits.nofile: expected an integer or "unlimited", got string "1KiB"`},
		{cmd + "[rlimits]\nnofile = { soft = 1 }\n", "t.toml:4:10: rlimits.nofile: a table needs both soft and hard (a bare value sets both)"},
		{cmd + "[signals]\nignore = [\"SIGKILL\"]\n", "t.toml:4:11: signals.ignore: SIGKILL cannot be ignored"},
		{cmd + "[fds]\npreserve = [1]\n", `t.toml:4:13: fds.preserve: fd 1 is a standard stream: set fds.stdout = "inherit" instead`},
		{cmd + "[fds]\nstdout = \"log\"\n", `t.toml:4:10: fds.stdout: "log": expected "null", "inherit" or a file path, and it is not an absolute path`},
		{cmd + "[namespaces]\nhostname = \"x\"\n", "t.toml:4:12: namespaces.hostname: hostname requires uts = true"},
		{cmd + "[filesystem]\nroot = \"/a/./b\"\n", `t.toml:4:8: filesystem.root: "/a/./b" is not canonical (write "/a/b")`},
		{"[process]\ncommand = [\"true\"]\n", `t.toml:2:12: process.command: "true" is not an absolute path (no PATH search is done)`},
		{"[process]\ncommand = \"/bin/true\"\n", `t.toml:2:11: process.command: expected an array, got string "/bin/true"`},
		{"[process]\nenv = {}\n", "t.toml:1:2: process: command is required"},
		{cmd + "env = { \"A=B\" = \"1\" }\n", `t.toml:3:9: process.env: "A=B" is not a valid variable name`},
		{cmd + "[daemon]\nrestart = \"alway\"\n", `t.toml:4:11: daemon.restart: "alway": expected one of ["no" "on-failure" "always"] (did you mean "always"?)`},
		{cmd + "version = 2\n", "t.toml:3:1: process: unknown key \"version\" (did you mean \"version\" at the top level, before any [table]?)"},
		{"version = 2\n" + cmd, "t.toml:1:11: version: 2 is out of range (1 to 1)"},
	}
	for _, c := range cases {
		_, err := Parse("t.toml", []byte(c.doc))
		if err == nil || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.doc, err, c.want)
		}
	}
}

// All problems are listed, in file order, not just the first.
func TestAllErrorsListed(t *testing.T) {
	doc := "[process]\ncommand = [\"x\"]\numask = 0o1000\n[signals]\nstop = \"SIGNOPE\"\n[rlimits]\ncpu = \"1.5s\"\n"
	_, err := Parse("t.toml", []byte(doc))
	errs := List(err)
	if len(errs) != 4 {
		t.Fatalf("%d errors, want 4:\n%v", len(errs), err)
	}
	for i, want := range []string{":2:", ":3:", ":5:", ":7:"} {
		if !strings.Contains(errs[i].Error(), want) {
			t.Errorf("error %d is %q, want it at line %s", i, errs[i], want)
		}
	}
}

func TestValueNotations(t *testing.T) {
	s := mustParse(t, `[process]
command = ["/bin/true"]
umask = "0027"
[rlimits]
as = "512MiB"
fsize = "4K"
cpu = "1h30m"
rttime = "250ms"
nofile = "unlimited"
nproc = { soft = 10, hard = "unlimited" }
[capabilities]
drop = ["all"]
keep = ["net_raw", "CAP_chown"]
[signals]
stop = "term"
stop_timeout = 3
parent_death = "none"
`)
	if s.Process.Umask != 0o027 {
		t.Errorf("umask %o", s.Process.Umask)
	}
	want := map[int][2]uint64{9: {512 << 20, 512 << 20}, 1: {4096, 4096}, 0: {5400, 5400},
		15: {250000, 250000}, 7: {rlimit.Unlimited, rlimit.Unlimited}, 6: {10, rlimit.Unlimited}}
	for r, w := range want {
		if l := s.Rlimits[r]; l == nil || l.Soft != w[0] || l.Hard != w[1] {
			t.Errorf("%s = %d/%d, want %d/%d", RlimitName(r), l.Soft, l.Hard, w[0], w[1])
		}
	}
	if s.Capabilities.Keep != 1<<13|1<<0 || !s.Capabilities.DropAll {
		t.Errorf("caps %+v", s.Capabilities)
	}
	if s.Signals.Stop != 15 || s.Signals.StopTimeout != 3*time.Second || s.Signals.ParentDeath != 0 {
		t.Errorf("signals %+v", s.Signals)
	}
	if FormatLimit(9, 512<<20) != "512MiB" || FormatLimit(0, 30) != "30s" || FormatLimit(7, rlimit.Unlimited) != "unlimited" {
		t.Error("FormatLimit does not round-trip")
	}
}

func TestEnviron(t *testing.T) {
	s := mustParse(t, "[process]\ncommand = [\"/bin/true\"]\nenv = { B = \"2\", A = \"1\" }\ninherit_env = [\"HOME\", \"GONE\"]\n")
	lookup := func(k string) (string, bool) {
		if k == "HOME" {
			return "/root", true
		}
		return "", false
	}
	if got := s.Environ(lookup, nil); !slices.Equal(got, []string{"A=1", "B=2", "HOME=/root"}) {
		t.Errorf("environment %q", got)
	}
	s = mustParse(t, "[process]\ncommand = [\"/bin/true\"]\nenv = {}\n")
	if got := s.Environ(lookup, nil); len(got) != 0 {
		t.Errorf("env = {} gave %q, want an empty environment", got)
	}
}

// Deep nesting is a clean error, not a stack overflow.
func TestDeepNesting(t *testing.T) {
	doc := "a = " + strings.Repeat("[", 200000) + strings.Repeat("]", 200000) + "\n"
	if _, err := Parse("t.toml", []byte(doc)); err == nil || !strings.HasPrefix(err.Error(), "t.toml:1:") {
		t.Errorf("got %v", err)
	}
}

func TestSuggest(t *testing.T) {
	cases := map[string]string{"capabilites": "capabilities", "stdot": "stdout", "zzz": "", "nofiles": "nofile", "fd": "fds", "xyz": ""}
	keys := append(append([]string{}, topKeys...), "stdout", "nofile")
	for word, want := range cases {
		if got := suggest(word, keys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", word, got, want)
		}
	}
}

func TestDatesRefused(t *testing.T) {
	_, err := Parse("t.toml", []byte("[process]\ncommand = [\"/bin/true\"]\ncwd = 1979-05-27\n"))
	if err == nil || err.Error() != "t.toml:3:7: 1979-05-27: a date or time, which no daemonbox key takes" {
		t.Errorf("got %v", err)
	}
}

func TestNamespaceKeys(t *testing.T) {
	const cmd = "[process]\ncommand = [\"/bin/true\"]\n"
	s, err := Parse("t.toml", []byte(cmd+"[filesystem]\ntmpfs = [\"/tmp\"]\ndev = false\n[namespaces]\nnetwork = true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Namespaces.Mount || !s.Namespaces.Network || s.Namespaces.PID || s.Filesystem.Dev == nil || *s.Filesystem.Dev {
		t.Errorf("tmpfs must imply mount, and dev = false be kept: %+v %+v", s.Namespaces, s.Filesystem)
	}
	s, err = Parse("t.toml", []byte(cmd+"[namespaces]\npid = true\ninit = false\n"))
	if err != nil || !s.Namespaces.Mount || !s.Namespaces.NoInit {
		t.Errorf("pid must imply mount, init = false be kept: %+v %v", s, err)
	}
	s, err = Parse("t.toml", []byte(cmd+"[namespaces]\npid = true\ninit = \"/usr/libexec/podman/catatonit\"\n"))
	if err != nil || s.Namespaces.NoInit || s.Namespaces.InitPath != "/usr/libexec/podman/catatonit" {
		t.Errorf("init = a path must be kept: %+v %v", s.Namespaces, err)
	}
	for text, want := range map[string]string{
		cmd + "[namespaces]\ninit = false\n":                                                                                                    "namespaces.init: init requires pid = true",
		cmd + "[namespaces]\ninit = \"/usr/bin/catatonit\"\n":                                                                                   "namespaces.init: init requires pid = true",
		cmd + "[namespaces]\npid = true\ninit = \"catatonit\"\n":                                                                                "5:8: namespaces.init: \"catatonit\" is not an absolute path",
		cmd + "[namespaces]\npid = true\ninit = \"/usr/bin/../bin/catatonit\"\n":                                                                "namespaces.init: \"/usr/bin/../bin/catatonit\" is not canonical",
		cmd + "[namespaces]\npid = true\ninit = 1\n":                                                                                            "namespaces.init: expected true, false or the absolute path of a PID 1 program, got",
		cmd + "[namespaces]\nuid_map = [{ inside = 0, outside = 1000, count = 1 }]\n":                                                           "namespaces.uid_map: uid_map requires user = true",
		cmd + "[namespaces]\nuser = true\ngid_map = [{ inside = 0, outside = 1000, count = 0 }]\n":                                              "5:12: namespaces.gid_map: count must be at least 1",
		cmd + "[namespaces]\nuser = true\nuid_map = [{ inside = 0, outside = 1000, count = 10 }, { inside = 5, outside = 2000, count = 1 }]\n":  "5:56: namespaces.uid_map: inside ids 5-5 overlap an earlier line",
		cmd + "[namespaces]\nuser = true\nuid_map = [{ inside = 0, outside = 1000, count = 10 }, { inside = 10, outside = 1009, count = 2 }]\n": "5:56: namespaces.uid_map: outside ids 1009-1010 overlap an earlier line",
		cmd + "[namespaces]\nuser = true\nuid_map = [{ inside = 4294967294, outside = 0, count = 2 }]\n":                                        "past the largest id",
		cmd + "[namespaces]\nuser = true\nuid_map = [{ inside = 0, count = 1 }]\n":                                                              "namespaces.uid_map[0]: outside is required",
		cmd + "[filesystem]\ndev = \"yes\"\n":                                                                                                   "filesystem.dev",
	} {
		if _, err := Parse("t.toml", []byte(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", text, err, want)
		}
	}
}

// Issue 21, item 7: a key in the wrong table is pointed to the right one, a
// capability or signal is found without its prefix, and nothing far away is
// suggested.
func TestDidYouMeanElsewhere(t *testing.T) {
	const cmd = "[process]\ncommand = [\"/bin/true\"]\n"
	for text, want := range map[string]string{
		cmd + "[[bind]]\nsource = \"/a\"\ntarget = \"/a\"\n":        `unknown key "bind" (did you mean [[filesystem.bind]]?)`,
		cmd + "[rlimit]\nnofile = 1\n":                              `unknown key "rlimit" (did you mean "rlimits"?)`,
		cmd + "[landlock]\nread = []\n[seccomp.landlock]\n":         `unknown key "landlock" (did you mean [landlock]?)`,
		cmd + "pidfile = \"/run/x.pid\"\n":                          `unknown key "pidfile" (did you mean "pidfile" in [daemon]?)`,
		cmd + "hostname = \"x\"\n":                                  `unknown key "hostname" (did you mean "hostname" in [namespaces]?)`,
		cmd + "[capabilities]\nkeep = [\"net_admn\"]\n":             `unknown capability "net_admn" (did you mean "CAP_NET_ADMIN"?)`,
		cmd + "[capabilities]\nkeep = [\"CAP_NET_BIND_SERIVCE\"]\n": `(did you mean "CAP_NET_BIND_SERVICE"?)`,
		cmd + "[signals]\nstop = \"trem\"\n":                        `unknown signal "trem" (did you mean "SIGTERM"?)`,
	} {
		_, err := Parse("t.toml", []byte(text))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", text, err, want)
		}
	}
	for text, refused := range map[string]string{
		cmd + "[capabilities]\nkeep = [\"CAP_FOO\"]\n": `unknown capability "CAP_FOO"`,
		cmd + "[capabilities]\nkeep = [\"foo\"]\n":     `unknown capability "foo"`,
		cmd + "[signals]\nstop = \"SIGFOO\"\n":         `unknown signal "SIGFOO"`,
		cmd + "colour = 1\n":                           `unknown key "colour"`,
		cmd + "zz = 1\n":                               `unknown key "zz"`,
	} {
		_, err := Parse("t.toml", []byte(text))
		if err == nil || !strings.Contains(err.Error(), refused) || strings.Contains(err.Error(), "did you mean") {
			t.Errorf("%q: got %v, want %q with no suggestion", text, err, refused)
		}
	}
}
