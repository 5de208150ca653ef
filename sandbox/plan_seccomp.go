package sandbox

import (
	"github.com/daemonbox/daemonbox/seccomp"
	"github.com/daemonbox/daemonbox/spec"
)

// seccompFilter compiles [seccomp] into the program the seccomp step loads,
// once, here: an init stage receives the bytes, not the policy.
func (r *resolver) seccompFilter(p *Plan) {
	sc := r.s.Seccomp
	if !sc.Enabled {
		return
	}
	allow := sc.Allow
	if allow == nil {
		allow = spec.DefaultSeccompAllow
	}
	families := sc.Families
	if families == nil && !sc.AllFamilies {
		families = spec.DefaultAddressFamilies
	}
	ll := r.s.Landlock
	pol := seccomp.Policy{Allow: allow, Deny: sc.Deny, Action: seccomp.Action(sc.Action), Errno: sc.Errno,
		NoMPTCP: ll.Set && (ll.RestrictBind || ll.RestrictConnect), Families: families, DenyWriteExecute: sc.DenyWriteExecute}
	prog, err := pol.Build()
	if err != nil {
		r.fail("seccomp", "build the filter: %v", err)
		return
	}
	p.Filter, p.SeccompPolicy = prog, &pol
}
