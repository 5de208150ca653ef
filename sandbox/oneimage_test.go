package sandbox

import (
	"os"
	"os/signal"
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/rlimit"
	"github.com/daemonbox/daemonbox/seccomp"
	"golang.org/x/sys/unix"
)

// Every step of the staged sequence runs on the one-image path too, or is
// left out with a reason; the one-image path adds only its cgroup step.
func TestOneImageSequenceCoversSequence(t *testing.T) {
	one := map[string]bool{}
	for _, steps := range [][]step{oneImageSequence, daemonThreadSequence} {
		seen := map[string]bool{}
		for _, s := range steps {
			if seen[s.name] {
				t.Errorf("step %q twice", s.name)
			}
			seen[s.name], one[s.name] = true, true
		}
	}
	for _, s := range sequence {
		_, out := oneImageLeftOut[s.name]
		if one[s.name] == out {
			t.Errorf("step %q: on the one-image path %v, left out %v", s.name, one[s.name], out)
		}
		delete(one, s.name)
	}
	delete(one, "cgroup")
	if len(one) > 0 {
		t.Errorf("one-image steps not in the sequence: %v", one)
	}
	// The order the design needs: PID 1 inherits bounding and
	// no_new_privs, /proc and the pivot need PID 1; on the daemon's
	// thread, its status is read before it joins the sandbox, and the
	// filter is last.
	at := func(steps []step, name string) int {
		for i, s := range steps {
			if s.name == name {
				return i
			}
		}
		t.Fatalf("no step %q", name)
		return -1
	}
	for _, o := range [][2]string{{"bounding", "pid1"}, {"no-new-privs", "pid1"}, {"pid1", "mounts"}, {"mounts", "root"}} {
		if at(oneImageSequence, o[0]) >= at(oneImageSequence, o[1]) {
			t.Errorf("launch thread: %s must come before %s", o[0], o[1])
		}
	}
	for _, o := range [][2]string{{"status", "namespaces"}, {"uid", "capabilities"}, {"landlock", "seccomp"}, {"seccomp", "exec"}} {
		if at(daemonThreadSequence, o[0]) >= at(daemonThreadSequence, o[1]) {
			t.Errorf("daemon's thread: %s must come before %s", o[0], o[1])
		}
	}
	for _, s := range oneImageSequence {
		if s.name == "uid" || s.name == "seccomp" || s.name == "landlock" {
			t.Errorf("the launch thread, which stays for PID 1's life, must not take the daemon's %s", s.name)
		}
	}
}

func TestPerProcessBlocker(t *testing.T) {
	sigkill := int(unix.SIGKILL)
	for _, c := range []struct {
		l    Launch
		want string
	}{
		{Launch{ParentDeath: sigkill}, ""},
		{Launch{Ignore: []int{int(unix.SIGTSTP), int(unix.SIGTTIN), int(unix.SIGTTOU)}}, ""},
		{Launch{Rlimits: []rlimit.Limit{{Resource: unix.RLIMIT_CORE}}}, ""},
		{Launch{Rlimits: []rlimit.Limit{{Name: "nofile", Resource: unix.RLIMIT_NOFILE, Soft: 10, Hard: 10}}}, "rlimit nofile"},
		{Launch{OOMScoreAdj: new(int)}, "oom_score_adj"},
		{Launch{Ignore: []int{int(unix.SIGHUP)}}, "ignored signals"},
		{Launch{ParentDeath: int(unix.SIGTERM)}, "parent-death"},
	} {
		if got := perProcessBlocker(&c.l); c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.l, got, c.want)
		}
	}
}

// A filter that refuses a call the launch thread makes after loading it
// keeps the plan off the one-image path; the default one does not.
func TestFilterBlocker(t *testing.T) {
	if got := filterBlocker(&seccomp.Policy{Allow: []string{"@system-service"}}, false, true); got != "" {
		t.Errorf("@system-service: %q", got)
	}
	got := filterBlocker(&seccomp.Policy{Allow: []string{"@system-service"}, Deny: []string{"setsid"}}, false, false)
	if !strings.Contains(got, "refuses setsid") {
		t.Errorf("setsid denied: %q", got)
	}
	// Into a cgroup v2 group the fork is clone3, which the default refuses.
	if got := filterBlocker(&seccomp.Policy{Allow: []string{"@system-service"}}, true, false); !strings.Contains(got, "refuses clone3") {
		t.Errorf("@system-service into a v2 cgroup: %q", got)
	}
	if got := filterBlocker(&seccomp.Policy{Allow: []string{"@system-service", "clone3"}}, true, false); got != "" {
		t.Errorf("clone3 allowed, into a v2 cgroup: %q", got)
	}
}

// On cgroup v2 a cgroup namespace must be made inside the daemon's cgroup,
// which the supervisor's threads cannot join: that launch takes stages.
func TestCgroupNamespaceIntoV2Cgroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("OneImageBlocker refuses a launch not run as root first")
	}
	l := &Launch{PIDNS: true, Init: true, Unshare: unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWCGROUP, InitProgram: "/usr/bin/catatonit"}
	if got := OneImageBlocker(l, nil, true); !strings.Contains(got, "cgroup namespace on cgroup v2") {
		t.Errorf("into a v2 cgroup with a cgroup namespace: %q", got)
	}
	if got := OneImageBlocker(l, nil, false); strings.Contains(got, "cgroup namespace") {
		t.Errorf("without a v2 cgroup: %q", got)
	}
}

// UseOneImage takes the reasons the plan kept, and asks the process's
// ignored signals anew: they may change between plan and launch.
func TestUseOneImageKeptBlockers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the euid is asked first")
	}
	t.Setenv(LaunchEnv, "one-image")
	p := &Plan{}
	p.blockers[0] = &oneImageBlockers{before: "kept"}
	if _, err := UseOneImage(p, nil); err == nil || !strings.Contains(err.Error(), "kept") {
		t.Errorf("kept before: %v", err)
	}
	p.blockers[0] = &oneImageBlockers{}
	if one, err := UseOneImage(p, nil); !one || err != nil {
		t.Errorf("nothing kept: %v %v", one, err)
	}
	signal.Ignore(unix.SIGUSR2)
	defer signal.Reset(unix.SIGUSR2)
	if _, err := UseOneImage(p, nil); err == nil || !strings.Contains(err.Error(), "daemonbox itself ignores") {
		t.Errorf("SIGUSR2 ignored since the plan: %v", err)
	}
}

// ownPidns opens this process's PID namespace, close-on-exec.
func TestOwnPidns(t *testing.T) {
	ns, err := ownPidns()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ns)
	var got, want unix.Stat_t
	if err := unix.Fstat(ns, &got); err != nil {
		t.Fatal(err)
	}
	if err := unix.Stat("/proc/self/ns/pid", &want); err != nil {
		t.Fatal(err)
	}
	if got.Ino != want.Ino || got.Dev != want.Dev {
		t.Errorf("namespace %d:%d, want %d:%d", got.Dev, got.Ino, want.Dev, want.Ino)
	}
	if fl, err := unix.FcntlInt(uintptr(ns), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
		t.Errorf("fd flags %#x, %v: want close-on-exec", fl, err)
	}
}
