package sandbox

import (
	"strings"
	"testing"
)

func TestPlanCgroup(t *testing.T) {
	const nobody = "[user]\nuser = \"nobody\"\n"
	none := CgroupBase{None: "cgroup v1 has no subtree delegated to an unprivileged user"}
	cases := []struct {
		base      CgroupBase
		doc, path string
		problem   string
	}{
		{CgroupBase{}, "", "daemonbox/t", ""},
		{CgroupBase{}, nobody + "[resources]\nparent = \"a/b\"\npids_max = 5\n", "a/b/t", ""},
		{CgroupBase{V2: true, Base: "user.slice/user@1000.service/app.slice/x.service", Delegated: true}, nobody + "[resources]\n",
			"user.slice/user@1000.service/app.slice/x.service/daemonbox/t", ""},
		{none, "", "", ""},
		{none, "[resources]\nmemory_max = \"1MiB\"\n", "", "no cgroup can be made for this daemon: cgroup v1 has no subtree"},
		{CgroupBase{}, "[resources]\nmemory_swap_max = \"1MiB\"\n", "", "needs memory_max on cgroup v1"},
		{CgroupBase{}, "[resources]\n", "", "runs as the host's uid 0 owns its cgroup's files"},
		{CgroupBase{}, "[resources]\n[namespaces]\nmount = true\n", "daemonbox/t", ""},
		{CgroupBase{}, "[user]\nuser = 0\ngroup = 0\n[namespaces]\nuser = true\nuid_map = [{ inside = 0, outside = 0, count = 1 }]\n[resources]\n", "", "host's uid 0"},
	}
	for _, c := range cases {
		h := rootHost()
		h.Cgroups = func() CgroupBase { return c.base }
		p, err := plan(t, h, c.doc)
		switch {
		case c.problem != "":
			if err == nil || !strings.Contains(err.Error(), c.problem) {
				t.Errorf("%q on %+v: got %v, want %q", c.doc, c.base, err, c.problem)
			}
		case err != nil:
			t.Errorf("%q: %v", c.doc, err)
		case p.Cgroup.Path != c.path:
			t.Errorf("%q on %+v: cgroup %q, want %q", c.doc, c.base, p.Cgroup.Path, c.path)
		}
	}
}
