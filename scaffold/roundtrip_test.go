package scaffold_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/export"
	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/scaffold"
	"github.com/daemonbox/daemonbox/supervisor"
)

// knownLosses are the explain lines, by their first word, that a spec does
// not carry through systemd and back: what the systemd export cannot say,
// and so writes as a comment (Landlock, preserved fds, PID and cgroup
// namespaces before systemd 257, the IPPROTO_MPTCP rule), and what follows
// from those (the /proc a PID namespace mounts and its hardening, the
// filter's length, the hardening table and score). Listening sockets become
// socket units, which FromUnit does not read.
var knownLosses = []string{
	"name", "landlock", "preserved", "seccomp", "seccomp.baseline", "cgroup", "listen",
}

// exampleLosses are an example's own. A PID namespace (PrivatePIDs= needs
// systemd 257, and the export targets 252) and a cgroup namespace (no
// directive) are lost, and with the PID namespace its /proc and the /proc
// hardening and explain's pid 1 line, and isolated's hostname.
// nginx-socket's environment has no PATH, where a systemd service always
// has one.
var exampleLosses = map[string][]string{
	"hellod.toml":       {"namespaces", "mount", "pid"},
	"isolated.toml":     {"namespaces", "mount", "pid"},
	"nginx.toml":        {"namespaces", "mount", "pid"},
	"redis.toml":        {"namespaces", "mount", "pid"},
	"nginx-socket.toml": {"namespaces", "mount", "pid", "environment"},
}

// TestRoundTrip exports each example to a systemd unit, translates the unit
// back with FromUnit, and holds the result to check and to the example's
// explain, line by line, but for the known losses.
func TestRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.toml")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { roundTrip(t, file) })
	}
}

func roundTrip(t *testing.T, file string) {
	s, plan, err := sandbox.Load(file)
	if err != nil {
		t.Skipf("the example does not load on this host: %v", err)
	}
	var unit bytes.Buffer
	if err := export.WriteSystemd(&unit, s, plan, export.SystemdOptions{}); err != nil {
		t.Fatal(err)
	}
	text, err := scaffold.FromUnit("example.service", unit.Bytes(), s.Name)
	if err != nil {
		t.Fatal(err)
	}
	back := filepath.Join(t.TempDir(), "back.toml")
	if err := os.WriteFile(back, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s2, plan2, err := sandbox.Load(back)
	if err != nil {
		t.Fatalf("the translation does not load: %v\n%s", err, text)
	}
	var out, errs bytes.Buffer
	if code := supervisor.Check(&out, &errs, back, s2, plan2, supervisor.NoMaxExposure); code != 0 {
		t.Fatalf("check: %d %s\n%s", code, errs.String(), text)
	}
	lost := append(knownLosses, exampleLosses[filepath.Base(file)]...)
	want, got := keyLines(t, plan, lost), keyLines(t, plan2, lost)
	for _, l := range want {
		if !slices.Contains(got, l) {
			t.Errorf("explain's %q is lost", l)
		}
	}
	for _, l := range got {
		if !slices.Contains(want, l) {
			t.Errorf("explain's %q is new", l)
		}
	}
	if t.Failed() {
		t.Logf("the translation:\n%s", text)
	}
}

// keyLines is explain's settings block, above its hardening table, less the
// known losses.
func keyLines(t *testing.T, plan *sandbox.Plan, losses []string) []string {
	var b bytes.Buffer
	if err := supervisor.Explain(&b, plan); err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "hardening") || strings.HasPrefix(line, "ok ") || strings.HasPrefix(line, "-- ") {
			break
		}
		first, _, _ := strings.Cut(line, " ")
		lost := false
		for _, l := range losses {
			lost = lost || first == l || strings.HasPrefix(first, l+".")
		}
		if !lost {
			keep = append(keep, line)
		}
	}
	return keep
}
