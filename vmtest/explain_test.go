package vmtest

import (
	"fmt"
	"strings"
	"testing"
)

// explain's account of a spec matches what the probe then reports from inside.
func TestExplainMatchesProbe(t *testing.T) {
	need(t)
	spec := `
[process]
command = ["PROBE"]
umask = 0o027
cwd = "/tmp"
[user]
user = "nobody"
groups = [4242, "root"]
[capabilities]
keep = ["CAP_NET_BIND_SERVICE"]
[rlimits]
nofile = { soft = 64, hard = 128 }
[signals]
ignore = ["SIGPIPE"]
`
	ex := explained(t, spec)
	rep := launch{spec: spec}.ok(t)
	uid := strings.Fields(rep.one(t, "uid"))[0]
	gid := strings.Fields(rep.one(t, "gid"))[0]
	checks := []struct{ key, explained, probed string }{
		{"uid", ex["uid"], uid + " (nobody)"},
		{"gid", ex["gid"], gid},
		{"umask", ex["umask"], rep.one(t, "umask")},
		{"cwd", ex["cwd"], rep.one(t, "cwd")},
		{"caps.bounding", ex["caps.bounding"], capNames(rep.hex(t, "capbnd"))},
		{"caps.ambient", ex["caps.ambient"], capNames(rep.hex(t, "capamb"))},
		{"caps.inheritable", ex["caps.inheritable"], capNames(rep.hex(t, "capinh"))},
		{"signals ignored", strings.Join(strings.Fields(ex["signals"]), " "), "ignored SIGPIPE"},
	}
	soft, hard := rep.rlimit(t, "nofile")
	checks = append(checks, struct{ key, explained, probed string }{"nofile", strings.Join(strings.Fields(ex["nofile"]), " "), fmt.Sprintf("%d %d set", soft, hard)})
	for _, c := range checks {
		if c.explained != c.probed && !strings.HasPrefix(c.explained, c.probed+" (") {
			t.Errorf("%s: explain says %q, the probe %q", c.key, c.explained, c.probed)
		}
	}
	if got, probed := ex["groups"], rep.one(t, "groups"); got != "4242 0 (root)" || probed != "0 4242" {
		t.Errorf("groups: explain says %q, the probe %q", got, probed)
	}
}

// explained runs explain on spec and maps each line's key to its value.
func explained(t *testing.T, spec string) map[string]string {
	t.Helper()
	r := launch{spec: spec, cmd: "explain"}.do(t)
	if r.code != 0 {
		t.Fatalf("explain: exit %d: %s", r.code, r.stderr)
	}
	ex := map[string]string{}
	for _, line := range strings.Split(r.stdout, "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			ex[k] = strings.TrimSpace(v)
		}
	}
	return ex
}

func capNames(set uint64) string {
	if set == 1<<10 {
		return "CAP_NET_BIND_SERVICE"
	}
	if set == 0 {
		return "none"
	}
	return fmt.Sprintf("%#x", set)
}
