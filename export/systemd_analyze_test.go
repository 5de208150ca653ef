package export

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/sandbox"
)

// exampleScores pins, for each example, explain's exposure score and
// systemd-analyze security --offline=true's score of its exported unit
// (systemd 252). systemd rates about 80 items, daemonbox about 50: the
// README's "Export to systemd" explains each gap over 1.0 item by item.
var exampleScores = map[string]struct{ explain, systemd float64 }{
	"minimal.toml":      {3.7, 4.2},
	"httpd.toml":        {2.5, 4.3},
	"service.toml":      {2.0, 4.1},
	"full.toml":         {1.9, 4.0},
	"isolated.toml":     {0.5, 2.9},
	"socket.toml":       {2.7, 3.7},
	"nginx.toml":        {1.1, 3.1},
	"nginx-socket.toml": {0.5, 2.6},
	"redis.toml":        {1.2, 3.1},
	"hellod.toml":       {1.1, 3.4},
}

// TestSystemdExamples exports every example as `daemonbox export` would on
// this host, checks each unit with systemd-analyze verify and scores it.
func TestSystemdExamples(t *testing.T) {
	analyze := needAnalyze(t)
	files, _ := filepath.Glob("../examples/*.toml")
	if len(files) != len(exampleScores) {
		t.Errorf("examples %v, scores pinned for %d: pin the new one", files, len(exampleScores))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			s, p, err := sandbox.Load(file)
			if err != nil {
				t.Fatal(err)
			}
			unit := filepath.Join(t.TempDir(), p.Name+".service")
			if err := WriteSystemd(nil, s, p, SystemdOptions{Output: unit}); err != nil {
				t.Fatal(err)
			}
			verify(t, analyze, unit, p)
			pin := exampleScores[filepath.Base(file)]
			explain, systemd := sandbox.ExposureScore(p.Exposures()), securityScore(t, analyze, unit)
			if explain != pin.explain || systemd != pin.systemd {
				t.Errorf("explain %.1f, systemd-analyze security %.1f; pinned %.1f and %.1f (update the README's table too)", explain, systemd, pin.explain, pin.systemd)
			}
			if d := systemd - explain; d > 1.0 && !readmeRow(t, filepath.Base(file), explain, systemd) {
				t.Errorf("the scores differ by %.1f, and README.md has no row explaining it", d)
			}
		})
	}
}

func needAnalyze(t *testing.T) string {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the examples resolve against this host as `daemonbox export` does (run go test as root)")
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("needs systemd-analyze (apt-get install systemd)")
	}
	if _, err := os.Stat("/srv/daemonbox-httpd/bin/busybox"); err != nil {
		if out, err := exec.Command("../examples/make-httpd-root.sh").CombinedOutput(); err != nil {
			t.Skipf("the examples' root: %s", out)
		}
	}
	return analyze
}

// verify runs systemd-analyze verify, which checks that ExecStart='s
// program exists on the host, not in RootDirectory=: so the test checks the
// root itself. Its one accepted warning is systemd's about User=nobody.
func verify(t *testing.T, analyze, unit string, p *sandbox.Plan) {
	var stderr bytes.Buffer
	cmd := exec.Command(analyze, "verify", unit)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unit, err, stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		if line != "" && !strings.Contains(line, "Special user nobody configured") {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
	if fi, err := os.Stat(filepath.Join(p.Root, p.Argv[0])); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("%s in the root %s is not an executable file (%v)", p.Argv[0], p.Root, err)
	}
}

var overall = regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`)

func securityScore(t *testing.T, analyze, unit string) float64 {
	out, err := exec.Command(analyze, "security", "--offline=true", unit).CombinedOutput()
	m := overall.FindSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("systemd-analyze security --offline=true %s: %v\n%s", unit, err, out)
	}
	score, _ := strconv.ParseFloat(string(m[1]), 64)
	return score
}

// readmeRow reports whether README.md's score table has the example with
// both scores: "| httpd.toml | 2.5 | 4.3 |".
func readmeRow(t *testing.T, file string, explain, systemd float64) bool {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(readme, []byte(fmt.Sprintf("| %s | %.1f | %.1f |", file, explain, systemd)))
}
