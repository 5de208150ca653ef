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

// What the review found scored too kindly: a map to host root, a filter
// that only logs, and a bind of the host's / into a private root.
func TestExposureNotFooled(t *testing.T) {
	cases := []struct {
		doc, item, state string
	}{
		{"[user]\nuser = \"nobody\"\n[namespaces]\nuser = true\nuid_map = [{ inside = 65534, outside = 0, count = 1 }]\n",
			"user", "uid 65534, the host's uid 0 through the map"},
		{"[user]\nuser = \"nobody\"\n[namespaces]\nuser = true\nuid_map = [{ inside = 65534, outside = 0, count = 1 }]\n",
			"namespace user", "the host's, or host root mapped"},
		{"[seccomp]\naction = \"log\"\n", "namespace creation", "allowed"},
		{"[seccomp]\naction = \"log\"\n", "seccomp @mount", "allowed"},
		{"[filesystem]\nroot = \"/usr\"\nreadonly = [\"/\"]\n[[filesystem.bind]]\nsource = \"/\"\ntarget = \"/host\"\n",
			"root", "the host's / bound at /host"},
		{"[filesystem]\nroot = \"/usr\"\nreadonly = [\"/\"]\n[[filesystem.bind]]\nsource = \"/\"\ntarget = \"/host\"\n",
			"/tmp", "the host's"},
		{"[filesystem]\nroot = \"/usr\"\nreadonly = [\"/\"]\n[[filesystem.bind]]\nsource = \"/\"\ntarget = \"/host\"\n",
			"read-only root", "read-only but writable binds: /host"},
	}
	for _, c := range cases {
		p, err := plan(t, rootHost(), c.doc)
		if err != nil {
			t.Fatalf("%q: %v", c.doc, err)
		}
		got := "(no row)"
		for _, r := range p.Exposures() {
			if r.Item == c.item {
				got = r.State
			}
		}
		if got != c.state {
			t.Errorf("%q: row %q is %q, want %q", c.doc, c.item, got, c.state)
		}
	}
}

func TestFilterAndMapWarnings(t *testing.T) {
	cases := map[string]string{
		"[seccomp]\naction = \"log\"\n":                                                                                  "lets every call through",
		"[seccomp]\nallow = [\"@system-service\", \"@process\"]\n":                                                       "lifts the namespace rule",
		"[seccomp]\nallow = [\"@system-service\", \"io_uring_setup\"]\n":                                                 "sockets of any family through it",
		"[seccomp]\nenabled = false\naddress_families = [\"AF_UNIX\"]\n":                                                 "seccomp.address_families: has no effect",
		"[user]\nuser = \"nobody\"\n[namespaces]\nuser = true\nuid_map = [{ inside = 65534, outside = 0, count = 1 }]\n": "maps an id to the host's uid 0",
		"[filesystem]\nroot = \"/usr\"\n[[filesystem.bind]]\nsource = \"/\"\ntarget = \"/host\"\n":                       "the host's / is bound at /host",
	}
	for doc, want := range cases {
		full := "[process]\ncommand = [\"/bin/true\"]\n" + doc
		s, err := spec.Parse("t.toml", []byte(full))
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewPlan(s, rootHost())
		if err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if got := strings.Join(riskyCombinations(s, p), "\n"); !strings.Contains(got, want) {
			t.Errorf("%q: warnings lack %q:\n%s", doc, want, got)
		}
	}
}
