package supervisor

import (
	"testing"
	"time"

	"github.com/daemonbox/daemonbox/spec"
)

func TestRestartPolicy(t *testing.T) {
	for _, c := range []struct {
		policy spec.Restart
		code   int
		want   bool
	}{
		{"no", 1, false}, {"on-failure", 0, false}, {"on-failure", 1, true},
		{"on-failure", 128 + 9, true}, {"always", 0, true},
	} {
		r := restarter{policy: c.policy}
		if got := r.again(c.code); got != c.want {
			t.Errorf("%s after %d: %v", c.policy, c.code, got)
		}
	}
}

func TestBackoffAndStartLimit(t *testing.T) {
	r := restarter{policy: "always"}
	now := time.Unix(1000, 0)
	var got []time.Duration
	for {
		d, ok := r.next(now, time.Second)
		if !ok {
			break
		}
		got = append(got, d)
		now = now.Add(d + time.Second)
	}
	want := []time.Duration{100, 200, 400, 800, 1600}
	if len(got) != len(want) {
		t.Fatalf("delays %v", got)
	}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Errorf("delay %d: %v, want %v", i, got[i], want[i]*time.Millisecond)
		}
	}
	// Once the window has passed, restarts are allowed again; a long run
	// starts the delay over.
	now = now.Add(startWindow)
	if d, ok := r.next(now, backoffReset); !ok || d != backoffFirst {
		t.Errorf("after the window: %v %v", d, ok)
	}
}

func TestBackoffIsCapped(t *testing.T) {
	r := restarter{policy: "always"}
	now := time.Unix(0, 0)
	var d time.Duration
	for range 20 {
		d, _ = r.next(now, 0)
		now = now.Add(startWindow) // never reach the start limit
	}
	if d != backoffMax {
		t.Errorf("delay after many failures: %v", d)
	}
}
