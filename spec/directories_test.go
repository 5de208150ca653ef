package spec

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

const trueCmd = "[process]\ncommand = [\"/bin/true\"]\n"

func TestWritableAndDirectories(t *testing.T) {
	s := mustParse(t, trueCmd+"[filesystem]\nreadonly = [\"/\"]\nwritable = [\"/var/lib/web\"]\n[directories]\nstate = [\"web\", \"web/sessions\"]\nruntime = [\"web\"]\nmode = 0o750\n")
	if !slices.Equal(s.Filesystem.Writable, []string{"/var/lib/web"}) || !s.Namespaces.Mount {
		t.Errorf("writable %q, mount %v", s.Filesystem.Writable, s.Namespaces.Mount)
	}
	d := s.Directories
	if !slices.Equal(d.State, []string{"web", "web/sessions"}) || !slices.Equal(d.Runtime, []string{"web"}) || d.Mode != 0o750 || !d.Any() {
		t.Errorf("directories %+v", d)
	}
	if s := mustParse(t, trueCmd); s.Directories.Mode != 0o755 || s.Directories.Any() {
		t.Errorf("default directories %+v", s.Directories)
	}
	if s := mustParse(t, trueCmd+"[directories]\nstate = [\"web\"]\n"); s.Namespaces.Mount {
		t.Error("[directories] under \"/\" needs no mount namespace")
	}
	if s := mustParse(t, trueCmd+"[filesystem]\nroot = \"/srv/web\"\n[directories]\nstate = [\"web\"]\n"); !s.Namespaces.Mount {
		t.Error("[directories] under a chroot must imply the mount namespace (they are bound in)")
	}
	for text, want := range map[string]string{
		trueCmd + "[filesystem]\nwritable = [\"var/lib\"]\n":  `4:13: filesystem.writable: "var/lib" is not an absolute path`,
		trueCmd + "[directories]\nstate = [\"/var/lib/x\"]\n": `4:10: directories.state: "/var/lib/x" must be a relative path`,
		trueCmd + "[directories]\nlogs = [\"a/../../b\"]\n":   `directories.logs: "a/../../b" is not canonical (write "../b")`,
		trueCmd + "[directories]\ncache = [\"..\"]\n":         `directories.cache: ".." leads out`,
		trueCmd + "[directories]\nmode = 755\n":               `4:8: directories.mode: 755 is a decimal integer`,
		trueCmd + "[directories]\nstat = [\"x\"]\n":           `unknown key "stat"`,
	} {
		if _, err := Parse("t.toml", []byte(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", text, err, want)
		}
	}
}

func TestParseEnvFile(t *testing.T) {
	text := "# comment\n; also\n\nA=1\n  B = two words  \nC=\"q \\\"x\\\" \\$HOME\"\nD='$lit \\n'\nE=\nF=a\\\n  b\nA=again\r\n"
	env, err := ParseEnvFile(text)
	want := map[string]string{"A": "again", "B": "two words", "C": `q "x" $HOME`, "D": `$lit \n`, "E": "", "F": "ab"}
	if err != nil || !maps.Equal(env, want) {
		t.Errorf("got %q %v, want %q", env, err, want)
	}
	for text, want := range map[string]string{
		"A=1\nnot a line\n": "line 2: \"not a line\" is not NAME=VALUE",
		"\n\nB C=1\n":       "line 3: \"B C\" is not a valid variable name",
		"X=\"open\n":        "line 1: X: unterminated \" quote",
	} {
		if _, err := ParseEnvFile(text); err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %q", text, err, want)
		}
	}
}

func TestEnvironEnvFile(t *testing.T) {
	s := mustParse(t, trueCmd+"env = { A = \"spec\" }\ninherit_env = [\"B\"]\nenv_file = \"/etc/default/web\"\n")
	if s.Process.EnvFile != "/etc/default/web" {
		t.Errorf("env_file %q", s.Process.EnvFile)
	}
	lookup := func(k string) (string, bool) { return "inherited", k == "B" }
	got := s.Environ(lookup, map[string]string{"A": "file", "B": "file", "C": "file"})
	if want := []string{"A=file", "B=inherited", "C=file"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q (env < env_file < inherit_env)", got, want)
	}
}
