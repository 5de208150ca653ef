package sandbox

import (
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/spec"
)

func TestExposureScoreAndLabels(t *testing.T) {
	rows := []Exposure{{Weight: 1000, Badness: 1}, {Weight: 3000}}
	if got := ExposureScore(rows); got != 2.5 {
		t.Errorf("score %v, want 2.5", got)
	}
	for score, want := range map[float64]string{10: "DANGEROUS", 9.2: "UNSAFE", 7.5: "EXPOSED", 5: "MEDIUM", 2.5: "OK", 0.4: "SAFE", 0: "PERFECT"} {
		if got := ExposureLabel(score); got != want {
			t.Errorf("label of %v: %s, want %s", score, got, want)
		}
	}
}

// Each step towards the hardened spec lowers the score, never raises it.
func TestExposureFallsAsConfinementGrows(t *testing.T) {
	base := ""
	steps := []string{
		"[seccomp]\nenabled = false\n",
		"",
		"[user]\nuser = \"nobody\"\n",
		"[user]\nuser = \"nobody\"\n[namespaces]\nnetwork = true\nipc = true\nuts = true\nmount = true\n",
		"[user]\nuser = \"nobody\"\n[namespaces]\nnetwork = true\nipc = true\nuts = true\nmount = true\n[filesystem]\nreadonly = [\"/\"]\ntmpfs = [\"/tmp\"]\n",
	}
	last := 11.0
	for i, extra := range steps {
		p, err := plan(t, rootHost(), base+extra)
		if err != nil {
			t.Fatal(err)
		}
		score := ExposureScore(p.Exposures())
		if score >= last {
			t.Errorf("step %d: score %v, not below %v", i, score, last)
		}
		last = score
	}
}

func TestRiskyCombinations(t *testing.T) {
	doc := "[process]\ncommand = [\"/bin/true\"]\ninherit_env = [\"LD_PRELOAD\"]\n" +
		"[capabilities]\nkeep = [\"CAP_SYS_ADMIN\"]\n[seccomp]\nenabled = false\n"
	s, err := spec.Parse("t.toml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(s, rootHost())
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(riskyCombinations(s, p), "\n")
	for _, want := range []string{"uid 0 with CAP_SYS_ADMIN kept", "seccomp.enabled: false", "LD_PRELOAD is passed on"} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
}
