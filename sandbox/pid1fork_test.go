package sandbox

import (
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/rlimit"
	"github.com/daemonbox/daemonbox/seccomp"
	"golang.org/x/sys/unix"
)

// Which plans PID 1 forks the daemon of, and why the others keep the
// daemon's own stage.
func TestPID1ForkBlocker(t *testing.T) {
	t.Setenv(PID1ForkEnv, "")
	base := func() *Launch {
		return &Launch{PIDNS: true, Init: true, Ignore: []int{int(unix.SIGTSTP), int(unix.SIGTTIN), int(unix.SIGTTOU)},
			Rlimits: []rlimit.Limit{{Name: "core", Resource: unix.RLIMIT_CORE}, {Name: "nofile", Resource: unix.RLIMIT_NOFILE, Soft: 1024, Hard: 4096}}}
	}
	for _, c := range []struct {
		name   string
		change func(*Launch)
		want   string // a word of the reason; "" for eligible
	}{
		{"default", func(*Launch) {}, ""},
		{"no pid namespace", func(l *Launch) { l.PIDNS = false }, "PID 1"},
		{"init = false", func(l *Launch) { l.Init = false }, "PID 1"},
		{"as", func(l *Launch) { l.Rlimits = append(l.Rlimits, rlimit.Limit{Name: "as", Resource: unix.RLIMIT_AS}) }, "rlimit"},
		{"nproc", func(l *Launch) {
			l.Rlimits = append(l.Rlimits, rlimit.Limit{Name: "nproc", Resource: unix.RLIMIT_NPROC})
		}, "rlimit"},
		{"tiny nofile", func(l *Launch) { l.Rlimits[1].Soft = 8 }, "rlimit"},
		{"SIGCHLD ignored", func(l *Launch) { l.Ignore = append(l.Ignore, int(unix.SIGCHLD)) }, "signal 17"},
		{"SIGPIPE ignored", func(l *Launch) { l.Ignore = append(l.Ignore, int(unix.SIGPIPE)) }, ""},
		{"listen", func(l *Launch) { l.Listen = []Socket{{Name: "http"}} }, "LISTEN_PID"},
	} {
		l := base()
		c.change(l)
		got := PID1ForkBlocker(l, nil)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	t.Setenv(PID1ForkEnv, "stage")
	if got := PID1ForkBlocker(base(), nil); !strings.Contains(got, PID1ForkEnv) {
		t.Errorf("%s=stage: %q", PID1ForkEnv, got)
	}
}

// A filter that refuses a call the launch thread or Go's fork child makes
// after loading it keeps the daemon's own stage.
func TestPID1ForkBlockerFilter(t *testing.T) {
	t.Setenv(PID1ForkEnv, "")
	l := &Launch{PIDNS: true, Init: true}
	ok := seccomp.Policy{Allow: []string{"@system-service"}}
	if got := PID1ForkBlocker(l, &ok); got != "" {
		t.Errorf("@system-service: %q", got)
	}
	noFork := seccomp.Policy{Allow: []string{"@system-service"}, Deny: []string{"clone", "clone3", "fork", "vfork"}}
	if got := PID1ForkBlocker(l, &noFork); !strings.Contains(got, "clone") {
		t.Errorf("without clone: %q, want a reason naming clone", got)
	}
}

// Every step the two-image shape changes is a step of the sequence.
func TestPID1ForkStepsNamed(t *testing.T) {
	names := map[string]bool{}
	for _, s := range sequence {
		names[s.name] = true
	}
	for name := range pid1ForkSteps {
		if !names[name] {
			t.Errorf("pid1ForkSteps names %q, which is no step", name)
		}
	}
}
