package sandbox

import (
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/daemonbox/daemonbox/seccomp"
	"github.com/daemonbox/daemonbox/spec"
)

func TestPlanSeccomp(t *testing.T) {
	p, err := plan(t, rootHost(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Filter) == 0 || len(p.Filter)%8 != 0 || p.SeccompPolicy == nil {
		t.Fatalf("default spec: filter of %d bytes, policy %v", len(p.Filter), p.SeccompPolicy)
	}
	if d := p.SeccompPolicy; !slices.Equal(d.Allow, spec.DefaultSeccompAllow) || d.Errno != syscall.EPERM ||
		!slices.Equal(d.Families, spec.DefaultAddressFamilies) || !d.DenyWriteExecute {
		t.Errorf("default policy %+v", p.SeccompPolicy)
	}
	for text, want := range map[string][]int{`["all"]`: nil, `[]`: {}, `["AF_NETLINK", "af_unix", "AF_LOCAL"]`: {16, 1}} {
		p, err = plan(t, rootHost(), "[seccomp]\naddress_families = "+text+"\nmemory_deny_write_execute = false\n")
		if err != nil {
			t.Fatal(err)
		}
		if got := p.SeccompPolicy; !slices.Equal(got.Families, want) || (got.Families == nil) != (want == nil) || got.DenyWriteExecute {
			t.Errorf("address_families = %s: %+v", text, got)
		}
	}
	p, err = plan(t, rootHost(), "[seccomp]\nallow = [\"@default\", \"@basic-io\"]\ndeny = [\"write\"]\naction = \"kill\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.SeccompPolicy; got.Action != seccomp.ActionKill || !slices.Equal(got.Deny, []string{"write"}) {
		t.Errorf("policy %+v", got)
	}
	p, err = plan(t, rootHost(), "[seccomp]\nenabled = false\n")
	if err != nil || p.Filter != nil || p.SeccompPolicy != nil {
		t.Errorf("enabled = false: filter %d bytes, policy %v, %v", len(p.Filter), p.SeccompPolicy, err)
	}
}

func TestPlanSeccompNeedsExecve(t *testing.T) {
	_, err := plan(t, rootHost(), "[seccomp]\ndeny = [\"execve\"]\n")
	if err == nil || !strings.Contains(err.Error(), "t.toml:3:2: seccomp: build the filter: execve is not allowed") {
		t.Errorf("deny = [\"execve\"]: %v", err)
	}
}

func TestWarnsWithoutFilter(t *testing.T) {
	s, err := spec.Parse("t.toml", []byte("[process]\ncommand = [\"/bin/true\"]\n[seccomp]\nenabled = false\n"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPlan(s, rootHost())
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(Warnings(s, p), "\n")
	if !strings.Contains(w, "t.toml:4:11: seccomp.enabled: false: the daemon can make every system call") {
		t.Errorf("warnings:\n%s", w)
	}
}
