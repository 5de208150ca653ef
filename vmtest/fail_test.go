package vmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// P26: when a step fails, the daemon never runs, daemonbox exits 125, and the
// message names the step, the path or value, and the errno.
func TestFailClosed(t *testing.T) {
	need(t)
	private := filepath.Join(jailBase, "private")
	os.Mkdir(private, 0o700)
	t.Cleanup(func() { os.Remove(private) })
	cases := []struct {
		name, spec string
		l          launch
		want       string
	}{
		{"a uid the kernel refuses", `[user]
user = "nobody"`, launch{unmapped: true}, `step "uid": setresuid 65534: invalid argument`},
		{"groups the kernel refuses", `[user]
groups = [70000]`, launch{unmapped: true}, `step "groups": setgroups [70000]: invalid argument`},
		{"a cwd the user cannot enter", fmt.Sprintf(`[process]
cwd = %q
[user]
user = "nobody"`, private), launch{}, `step "cwd": chdir ` + private + `: permission denied`},
	}
	if !hasCap(t, 24) {
		cases = append(cases, struct {
			name, spec string
			l          launch
			want       string
		}{"an oom_score_adj that needs CAP_SYS_RESOURCE", "[process]\noom_score_adj = -900", launch{},
			`step "oom-score-adj": write /proc/self/oom_score_adj: permission denied`})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, leader := range []bool{false, true} {
				marker := filepath.Join(jailBase, "ran-"+strings.ReplaceAll(c.name, " ", "-"))
				l := c.l
				l.groupLeader = leader
				l.spec = fmt.Sprintf("[process]\ncommand = [\"/bin/touch\", %q]\n", marker) +
					strings.Replace(c.spec, "[process]\n", "", 1)
				r := l.do(t)
				if r.code != 125 || r.stderr != "daemonbox: "+c.want+"\n" {
					t.Errorf("supervised %v: exit %d, stderr %q; want 125 and %q", leader, r.code, r.stderr, c.want)
				}
				if _, err := os.Stat(marker); err == nil {
					os.Remove(marker)
					t.Errorf("supervised %v: the daemon ran", leader)
				}
			}
		})
	}
}

func hasCap(t *testing.T, c uint) bool { return ownCaps(t, "CapEff")&(1<<c) != 0 }

// security.md "Bad spec input": check and run refuse each before any side
// effect, exit 125, one located line per problem.
func TestBadSpecs(t *testing.T) {
	need(t)
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	logFile := filepath.Join(dir, "daemon.log")
	ok := fmt.Sprintf("[process]\ncommand = [\"/bin/touch\", %q]\n[fds]\nstdout = %q\n", marker, logFile)
	cases := badSpecs(ok)
	located := regexp.MustCompile(`^daemonbox: [^:]+:\d+:\d+: `)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, cmd := range []string{"check", "run"} {
				r := launch{spec: c.spec, cmd: cmd}.do(t)
				lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
				if r.code != 125 || r.stdout != "" || !strings.Contains(r.stderr, c.want) {
					t.Errorf("%s: exit %d, stderr %q; want 125 and %q", cmd, r.code, r.stderr, c.want)
				}
				for _, line := range lines {
					if !located.MatchString(line) || len(line) > 400 {
						t.Errorf("%s: %q is not one located line", cmd, line)
					}
				}
			}
			for _, f := range []string{marker, logFile} {
				if _, err := os.Stat(f); err == nil {
					t.Errorf("a side effect: %s exists", f)
					os.Remove(f)
				}
			}
		})
	}
}

// An unprivileged launch needs a user namespace: refused at validation, with
// the reason.
func TestUnprivilegedLaunchRefused(t *testing.T) {
	need(t)
	for _, cmd := range []string{"check", "run"} {
		r := launch{spec: "[process]\ncommand = [\"/bin/true\"]\n", cmd: cmd, asNobody: true}.do(t)
		if r.code != 125 || !strings.Contains(r.stderr, ":1:1: daemonbox runs as uid 65534 without CAP_SETUID, CAP_SETGID, CAP_SETPCAP") ||
			!strings.Contains(r.stderr, "namespaces.user") {
			t.Errorf("%s: exit %d, stderr %q", cmd, r.code, r.stderr)
		}
	}
}

// badSpecs are TestBadSpecs' cases, each a spec and what its message says;
// ok is a good spec that touches a marker file if it runs.
func badSpecs(ok string) []struct{ name, spec, want string } {
	return []struct{ name, spec, want string }{
		{"empty file", "", "file is empty"},
		{"only blanks", " \n\t\n", "file is empty"},
		{"huge file", ok + "#" + strings.Repeat("x", 1<<20) + "\n", "larger than"},
		{"deep nesting", "a = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n" + ok, ""},
		{"deep dotted header", ok + "[" + strings.Repeat("a.", 99999) + "a]\n", "nest more than 64 levels"},
		{"deep dotted key", ok + strings.Repeat("a.", 99999) + "a = 1\n", "nest more than 64 levels"},
		{"NUL byte", ok + "name = \"a\x00b\"\n", "NUL byte"},
		{"invalid UTF-8", ok + "name = \"\xff\xfe\"\n", "invalid UTF-8"},
		{"syntax error", ok + "[signals\n", ""},
		{"duplicate key", ok + "name = \"a\"\nname = \"b\"\n", "already defined"},
		{"unknown key", ok + "[capabilites]\n", `unknown key "capabilites" (did you mean "capabilities"?)`},
		{"unknown nested key", strings.Replace(ok, "[fds]", "[fds]\nstdot = \"null\"", 1), `did you mean "stdout"?`},
		{"wrong type", ok + "[signals]\nstop_timeout = true\n", "expected a duration"},
		{"uid out of range", ok + "[user]\nuser = 4294967295\n", "out of range"},
		{"gid out of range", ok + "[user]\ngroup = -1\n", "out of range"},
		{"unknown user", ok + "[user]\nuser = \"no-such-user\"\n", `unknown name "no-such-user"`},
		{"number as a name", ok + "[user]\nuser = \"65534\"\n", `unknown name "65534"`},
		{"unknown group", ok + "[user]\ngroups = [\"no-such-group\"]\n", `unknown name "no-such-group"`},
		{"unknown capability", ok + "[capabilities]\nkeep = [\"CAP_NET_BIND_SERIVCE\"]\n", `unknown capability "CAP_NET_BIND_SERIVCE" (did you mean "CAP_NET_BIND_SERVICE"?)`},
		{"unknown signal", ok + "[signals]\nstop = \"SIGTREM\"\n", `did you mean "SIGTERM"?`},
		{"unknown rlimit", ok + "[rlimits]\nnofiles = 10\n", `did you mean "nofile"?`},
		{"unknown namespace", ok + "[namespaces]\nnetwrok = true\n", `did you mean "network"?`},
		{"soft above hard", ok + "[rlimits]\nnofile = { soft = 100, hard = 10 }\n", "above hard limit"},
		{"rlimit above the grantable", ok + "[rlimits]\nnofile = 1099511627776\n", "nofile"},
		{"umask out of range", strings.Replace(ok, "[fds]", "umask = 0o1000\n[fds]", 1), "not a umask"},
		{"decimal umask", strings.Replace(ok, "[fds]", "umask = 22\n[fds]", 1), "decimal"},
		{"relative root", ok + "[filesystem]\nroot = \"srv\"\n", "not an absolute path"},
		{"non-canonical root", ok + "[filesystem]\nroot = \"/srv/../x\"\n", "not canonical"},
		{"non-existent root", ok + "[filesystem]\nroot = \"/no/such/root\"\n", "no such file"},
		{"non-existent cwd", strings.Replace(ok, "[fds]", "cwd = \"/no-such-dir\"\n[fds]", 1) + "[filesystem]\nroot = \"/usr\"\n", "process.cwd"},
		{"empty command", "[process]\ncommand = []\n", "must not be empty"},
		{"relative command", "[process]\ncommand = [\"touch\"]\n", "not an absolute path"},
		{"env name with =", strings.Replace(ok, "[fds]", "env = { \"A=B\" = \"x\" }\n[fds]", 1), "not a valid variable name"},
		{"env name with NUL", strings.Replace(ok, "[fds]", "env = { \"A\\u0000B\" = \"x\" }\n[fds]", 1), "not a valid variable name"},
		{"duplicate preserved fd", ok + "preserve = [3, 3]\n", "listed twice"},
		{"hostname without uts", ok + "[namespaces]\nhostname = \"web\"\n", "requires uts"},
		{"preserve where a listen socket arrives", ok + "preserve = [3]\n[[fds.listen]]\nname = \"http\"\naddress = \"tcp://127.0.0.1:8080\"\n", "fd 3 is where a listen socket arrives"},
		{"listen address with a host name", ok + "[[fds.listen]]\nname = \"http\"\naddress = \"tcp://localhost:8080\"\n", "with an IP address as HOST"},
	}
}
