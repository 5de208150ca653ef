package seccomp

import "testing"

func TestLets(t *testing.T) {
	def := Policy{Allow: []string{ServiceGroup}, Action: ActionErrno}
	cases := []struct {
		p     Policy
		names []string
		want  float64
	}{
		{def, []string{"read"}, 1},
		{def, []string{"unshare"}, 0},
		{def, []string{"@mount"}, 0},
		{def, []string{"personality"}, 0.5},
		{Policy{Allow: []string{ServiceGroup, "unshare"}}, []string{"unshare"}, 1},
		{Policy{Allow: []string{ServiceGroup}, Deny: []string{"read"}}, []string{"read", "write"}, 0.5},
	}
	for _, c := range cases {
		if got := c.p.Lets(c.names...); got != c.want {
			t.Errorf("%+v lets %v: %v, want %v", c.p, c.names, got, c.want)
		}
	}
}

// FirstRefused agrees with Lets name by name.
func TestFirstRefused(t *testing.T) {
	def := Policy{Allow: []string{ServiceGroup}, Action: ActionErrno}
	names := []string{"read", "personality", "clone", "clone3", "unshare", "mount", "write", "setsid"}
	for _, p := range []Policy{def, {Allow: []string{ServiceGroup, "unshare"}, Deny: []string{"setsid"}}} {
		want := ""
		for _, n := range names {
			if p.Lets(n) == 0 {
				want = n
				break
			}
		}
		if got := p.FirstRefused(names...); got != want {
			t.Errorf("%+v: first refused %q, Lets says %q", p, got, want)
		}
	}
	if got := def.FirstRefused("read", "write"); got != "" {
		t.Errorf("read, write: %q", got)
	}
}
