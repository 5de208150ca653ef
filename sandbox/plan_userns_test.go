package sandbox

import (
	"reflect"
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/spec"
)

// userHost is an unprivileged launcher, uid 1000 and gid 1000, whose
// bounding set is full but for CAP_SYS_RESOURCE.
func userHost() *Host {
	h := rootHost()
	h.Euid, h.Egid, h.Caps = 1000, 1000, caps.Sets{}
	h.Bounding = func() (caps.Set, error) { return caps.Upto(40) &^ (1 << 24), nil }
	return h
}

func TestPlanUserNamespaceMaps(t *testing.T) {
	cases := []struct {
		name     string
		h        *Host
		doc      string
		uid, gid []spec.IDMap
		denied   bool
	}{
		{"rootless: the caller as nobody", userHost(), "[user]\nuser = \"nobody\"\n",
			[]spec.IDMap{{Inside: 65534, Outside: 1000, Count: 1}}, []spec.IDMap{{Inside: 65534, Outside: 1000, Count: 1}}, true},
		{"rootless: the caller as itself", userHost(), "",
			[]spec.IDMap{{Inside: 1000, Outside: 1000, Count: 1}}, []spec.IDMap{{Inside: 1000, Outside: 1000, Count: 1}}, true},
		{"root: each id to itself", rootHost(), "[user]\nuser = \"www-data\"\ngroups = [\"ssl-cert\", \"www-data\"]\n",
			[]spec.IDMap{{Inside: 33, Outside: 33, Count: 1}},
			[]spec.IDMap{{Inside: 33, Outside: 33, Count: 1}, {Inside: 112, Outside: 112, Count: 1}}, false},
		{"root: the spec's maps", rootHost(), "[namespaces]\nuid_map = [{ inside = 0, outside = 100000, count = 65536 }]\ngid_map = [{ inside = 0, outside = 100000, count = 65536 }]\n",
			[]spec.IDMap{{Inside: 0, Outside: 100000, Count: 65536}}, []spec.IDMap{{Inside: 0, Outside: 100000, Count: 65536}}, false},
	}
	for _, c := range cases {
		p, err := plan(t, c.h, withUser(c.doc))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !p.UserNS || !reflect.DeepEqual(p.UIDMap, c.uid) || !reflect.DeepEqual(p.GIDMap, c.gid) || p.Rootless != c.denied {
			t.Errorf("%s: maps %v %v, setgroups denied %v; want %v %v %v", c.name, p.UIDMap, p.GIDMap, p.Rootless, c.uid, c.gid, c.denied)
		}
		if !p.NeedsSupervisor() {
			t.Errorf("%s: a user namespace must be cloned by a supervisor", c.name)
		}
	}
}

func TestPlanUserNamespaceErrors(t *testing.T) {
	cases := []struct {
		h         *Host
		doc, want string
	}{
		{rootHost(), "", "namespaces.uid_map: the daemon runs as uid 0, and the default map"},
		{rootHost(), "[user]\nuser = 33\ngroup = 33\n[namespaces]\nuid_map = [{ inside = 0, outside = 100000, count = 10 }]\n", "namespaces.uid_map: the daemon's uid 33 is not mapped"},
		{rootHost(), "[user]\nuser = \"www-data\"\ngroups = [7]\n[namespaces]\ngid_map = [{ inside = 33, outside = 33, count = 1 }]\n", "namespaces.gid_map: the daemon's supplementary group 7 is not mapped"},
		{userHost(), "[user]\ngroups = [7]\n", "user.groups: unprivileged, daemonbox cannot set supplementary groups"},
		{userHost(), "[namespaces]\nuid_map = [{ inside = 0, outside = 1000, count = 2 }]\n", "namespaces.uid_map: unprivileged, daemonbox can map only its own uid 1000"},
		{userHost(), "[namespaces]\ngid_map = [{ inside = 1000, outside = 5, count = 1 }]\n", "namespaces.gid_map: unprivileged, daemonbox can map only its own gid 1000"},
		{userHost(), "[rlimits]\nnofile = 8192\n", "rlimits.nofile: hard limit 8192 is above daemonbox's own"},
		{rootHost(), "oom_score_adj = -5\n[user]\nuser = \"www-data\"\n", "process.oom_score_adj: a negative value needs CAP_SYS_RESOURCE"},
	}
	for _, c := range cases {
		_, err := plan(t, c.h, withUser(c.doc))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.doc, err, c.want)
		}
	}
}

// A host that forbids user namespaces is named at validation.
func TestPlanUserNamespacesDisabled(t *testing.T) {
	h := userHost()
	h.Sysctl = func(name string) (string, error) { return "0", nil }
	_, err := plan(t, h, "[namespaces]\nuser = true\n")
	if err == nil || !strings.Contains(err.Error(), "user.max_user_namespaces = 0") || !strings.Contains(err.Error(), "unprivileged_userns_clone = 0") {
		t.Errorf("got %v", err)
	}
}

// Rootless, capabilities come from the bounding set: the stage holds them
// all in the namespace, and nothing of the host's.
func TestPlanUserNamespaceCapabilities(t *testing.T) {
	p, err := plan(t, userHost(), "[user]\nuser = \"nobody\"\n[capabilities]\nkeep = [\"CAP_NET_BIND_SERVICE\"]\n[namespaces]\nuser = true\n")
	if err != nil || p.Caps.Keep != 1<<10 || !p.Caps.Ambient {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := plan(t, userHost(), "[capabilities]\nkeep = [\"CAP_SYS_RESOURCE\"]\n[namespaces]\nuser = true\n"); err == nil {
		t.Error("a capability outside the bounding set was accepted")
	}
}

// withUser turns namespaces.user on in doc.
func withUser(doc string) string {
	if strings.Contains(doc, "[namespaces]\n") {
		return strings.Replace(doc, "[namespaces]\n", "[namespaces]\nuser = true\n", 1)
	}
	return doc + "[namespaces]\nuser = true\n"
}
