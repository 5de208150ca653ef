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
