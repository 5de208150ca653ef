package sandbox

import (
	"github.com/daemonbox/daemonbox/cgroup"
	"reflect"
	"testing"
	"time"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/rlimit"
	"github.com/daemonbox/daemonbox/seccomp"
	"github.com/daemonbox/daemonbox/spec"
)

// fullPlan sets every field of Plan that crosses the wire to something
// other than its zero value, and fails if one is left out: a new field must
// be added here and to the codec. Lifecycle.Detach does not cross: only the
// process that reads the spec acts on it.
func fullPlan(t *testing.T) *Plan {
	adj := -17
	p := &Plan{
		Launch: Launch{
			Argv: []string{"/bin/x", "", "a b"}, Env: []string{"A=1", "B="},
			Title: "web", Root: "/srv", Cwd: "/data", Umask: 0o027, NoNewPrivs: true, OOMScoreAdj: &adj,
			UID: 33, GID: 4294967294, Groups: []uint32{0, 112},
			Caps:     caps.Want{Keep: 1<<10 | 1<<40, Ambient: true},
			Rlimits:  []rlimit.Limit{{Name: "nofile", Resource: 7, Soft: 64, Hard: rlimit.Unlimited}},
			Preserve: []int{3, 1200}, Ignore: []int{20, 21}, ParentDeath: 9,
			Listen: []Socket{{Name: "http", Network: spec.NetTCP6, Address: "tcp6://[::1]:80", Host: "::1", Port: 80, UID: -1, GID: -1},
				{Name: "ctl", Network: spec.NetUnix, Address: "unix:///run/c", Path: "/run/c", Mode: 0o660, UID: 33, GID: 0},
				{Name: "web", Network: spec.NetSystemd, Address: "systemd:web.socket", Systemd: "web.socket", UID: -1, GID: -1}},
			Unshare: 0x20000, PIDNS: true, Init: true, PID1Forks: true, Hostname: "web",
			InitProgram: "/usr/bin/catatonit", InitArgv: []string{"catatonit", "-P"},
			Mounts: []Mount{{Kind: MountBind, Source: "/a", Target: "/b", Readonly: true, Optional: true, InRoot: true}},
			UserNS: true, UIDMap: []spec.IDMap{{Inside: 0, Outside: 100000, Count: 65536}},
			GIDMap:   []spec.IDMap{{Inside: 33, Outside: 1000, Count: 1}, {Inside: 4294967294, Outside: 7, Count: 1}},
			Rootless: true, NotifySocket: "daemonbox/notify/0123",
			Filter:   []byte{0x06, 0, 0, 0, 0, 0, 0xff, 0x7f},
			Landlock: &spec.Landlock{Set: true, Read: []string{"/usr"}, Write: []string{"/tmp"}, Execute: []string{"/bin"}, BindTCP: []uint16{80}, ConnectTCP: []uint16{5432}, RestrictBind: true, RestrictConnect: true, Mode: spec.LandlockRequired},
		},
		Lifecycle: Lifecycle{
			Name:    "web",
			Stdio:   [3]spec.Stdio{{Kind: spec.StdioNull}, {Kind: spec.StdioFile, Path: "/log"}, {Kind: spec.StdioInherit}},
			Pidfile: "/run/web.pid", PidfileDir: "/run/user/1000/daemonbox", Manager: "/run/systemd/notify",
			Restart: spec.RestartAlways, Ready: spec.ReadyNotify, ReadyTimeout: time.Minute, StartSettle: time.Second, Watchdog: 30 * time.Second,
			Directories: []Directory{{Kind: "state", Base: "/var/lib", Name: "web/x", Mode: 0o750, UID: 33, GID: -1}},
			Stop:        15, StopTimeout: 1500 * time.Millisecond, Reload: 10,
			Cgroup: Cgroup{Path: "u/daemonbox/web", V2: true, Base: "u", Delegated: true, None: "n", Set: true, MemoryMax: "1MiB", Spec: "/etc/daemonbox/web.toml",
				Limits: cgroup.Limits{MemoryMax: ptr(uint64(1 << 20)), MemorySwapMax: ptr(uint64(0)), PidsMax: ptr(int64(64)),
					CPUQuota: ptr(int64(50000)), CPUPeriod: 100000, CPUWeight: ptr(uint64(200)), IOWeight: ptr(uint64(10000))}},
		},
		Names: Names{UserName: "www-data", GroupName: "ssl-cert", GroupNames: []string{"root", ""}, LandlockABI: 7,
			SeccompPolicy: &seccomp.Policy{Allow: []string{"@system-service", "io_uring_setup"}, Deny: []string{"@network-io"}, Action: seccomp.ActionErrno, Errno: 13, NoMPTCP: true,
				Families: []int{1, 2, 10}, DenyWriteExecute: true},
			EnvFile: "/etc/default/web", EnvFileNames: []string{"TOKEN"}, PID1: "catatonit (/usr/bin/catatonit -P, found)", StagedWhy: "a reason"},
	}
	for _, part := range []any{&p.Launch, &p.Lifecycle, &p.Names} {
		v := reflect.ValueOf(part).Elem()
		for i := 0; i < v.NumField(); i++ {
			if name := v.Type().Field(i).Name; v.Field(i).IsZero() && name != "Detach" {
				t.Fatalf("fullPlan leaves %s.%s unset", v.Type().Name(), name)
			}
		}
	}
	return p
}

func ptr[T any](v T) *T { return &v }

func TestCodecRoundTrip(t *testing.T) {
	full := fullPlan(t)
	for _, m := range []message{
		{kind: kindPlan, plan: full},
		{kind: kindLaunch, launch: &full.Launch},
		{kind: kindResume, launch: &full.Launch},
		{kind: kindPlan, plan: &Plan{Launch: Launch{Groups: []uint32{}}}},
		{kind: kindReady},
		{kind: kindNotify},
		{kind: kindStarted, pid: 4194304},
		{kind: kindError, err: &StepError{Step: "exec", Op: "execve", Path: "/x", Errno: 2, Msg: "m"}},
	} {
		got, err := decode(encode(m))
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("%s: round trip gave %+v (%v), want %+v", m.kind, got, err, m)
		}
	}
}

func TestCodecRefusesDamage(t *testing.T) {
	b := encode(message{kind: kindPlan, plan: fullPlan(t)})
	for n := 0; n < len(b); n++ {
		if _, err := decode(b[:n]); err == nil {
			t.Fatalf("a message cut to %d of %d bytes decoded", n, len(b))
		}
	}
	if _, err := decode(append(b, 0)); err == nil {
		t.Error("trailing bytes accepted")
	}
	if _, err := decode([]byte{99}); err == nil {
		t.Error("an unknown kind accepted")
	}
}
