package sandbox

import (
	"reflect"
	"testing"
	"time"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/rlimit"
	"github.com/daemonbox/daemonbox/spec"
)

// fullPlan sets every field of Plan to something other than its zero value,
// and fails if a field is left out: a new field must be added here and to
// the codec.
func fullPlan(t *testing.T) *Plan {
	adj := -17
	p := &Plan{
		Name: "web", Argv: []string{"/bin/x", "", "a b"}, Env: []string{"A=1", "B="},
		Root: "/srv", Cwd: "/data", Umask: 0o027, NoNewPrivs: true, OOMScoreAdj: &adj,
		UID: 33, GID: 4294967294, Groups: []uint32{0, 112},
		Caps:     caps.Want{Keep: 1<<10 | 1<<40, Ambient: true},
		Rlimits:  []rlimit.Limit{{Name: "nofile", Resource: 7, Soft: 64, Hard: rlimit.Unlimited}},
		Stdio:    [3]spec.Stdio{{Kind: spec.StdioNull}, {Kind: spec.StdioFile, Path: "/log"}, {Kind: spec.StdioInherit}},
		Preserve: []int{3, 1200}, Ignore: []int{20, 21}, Stop: 15, StopTimeout: 1500 * time.Millisecond,
		ParentDeath: 9, Reload: 10, Unshare: 0x20000, PIDNS: true, Init: true, Hostname: "web",
		UserNS: true, UIDMap: []spec.IDMap{{Inside: 0, Outside: 100000, Count: 65536}},
		GIDMap: []spec.IDMap{{Inside: 33, Outside: 1000, Count: 1}, {Inside: 4294967294, Outside: 7, Count: 1}}, Rootless: true,
		Mounts: []Mount{{Kind: "bind", Source: "/a", Target: "/b", Readonly: true, Optional: true}}, Detach: true, Pidfile: "/run/web.pid", PidfileDir: "/run/user/1000/daemonbox", Manager: "/run/systemd/notify", Restart: "always",
		Ready: "notify", ReadyTimeout: time.Minute, UserName: "www-data", GroupName: "ssl-cert", GroupNames: []string{"root", ""},
	}
	v := reflect.ValueOf(p).Elem()
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).IsZero() {
			t.Fatalf("fullPlan leaves Plan.%s unset", v.Type().Field(i).Name)
		}
	}
	return p
}

func TestCodecRoundTrip(t *testing.T) {
	for _, m := range []message{
		{Kind: "plan", Plan: fullPlan(t)},
		{Kind: "plan", Plan: &Plan{Groups: []uint32{}}},
		{Kind: "ready"},
		{Kind: "started", PID: 4194304},
		{Kind: "error", Error: &StepError{Step: "exec", Op: "execve", Path: "/x", Errno: 2, Msg: "m"}},
	} {
		got, err := decode(encode(m))
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("%s: round trip gave %+v (%v), want %+v", m.Kind, got, err, m)
		}
	}
}

func TestCodecRefusesDamage(t *testing.T) {
	b := encode(message{Kind: "plan", Plan: fullPlan(t)})
	for n := 0; n < len(b); n++ {
		if _, err := decode(b[:n]); err == nil {
			t.Fatalf("a message cut to %d of %d bytes decoded", n, len(b))
		}
	}
	if _, err := decode(append(b, 0)); err == nil {
		t.Error("trailing bytes accepted")
	}
}
