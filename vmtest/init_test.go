package vmtest

import (
	"os"

	"github.com/daemonbox/daemonbox/cgroup"
	"strings"
	"testing"
)

// explain and check name the PID 1 that a launch with a PID namespace
// runs: Debian's catatonit, found or named, when it is installed (.ci/run
// installs it); the daemon itself with init = false. tini, named, is
// refused: it has no pause mode.
func TestExplainNamesPID1(t *testing.T) {
	need(t)
	const catatonit = "/usr/bin/catatonit"
	if _, err := os.Stat(catatonit); err != nil {
		skipOrFail(t, "catatonit is not installed: apt-get install catatonit")
	}
	const pid = "[process]\ncommand = [\"PROBE\"]\n[namespaces]\npid = true\n"
	found, named := "1 catatonit (/usr/bin/catatonit -P, found)", "1 catatonit (/usr/bin/catatonit -P, named by namespaces.init)"
	switch {
	case !procTakesPidns(): // Debian 13's kernel in the VM: catatonit is there, one image is not
		found = "1 daemonbox, as the launch takes stages here: this kernel's procfs takes no pidns option, which mounting /proc from outside the PID namespace needs"
		named = found
	case cgroup.V2(): // a foreground run makes no cgroup; start would, cloned into it with clone3, which the filter refuses
		const start = "; under start, which gives it a cgroup, daemonbox, in stages: the seccomp filter refuses clone3, which the supervisor's thread for the daemon makes after loading it"
		found, named = found+start, named+start
	}
	for spec, want := range map[string]string{
		pid:                                    found,
		pid + "init = \"" + catatonit + "\"\n": named,
		pid + "init = false\n":                 "1 the daemon (init = false)",
		// A plan that takes stages all the same says why.
		pid + "[rlimits]\nnofile = 100\n": "1 daemonbox, as the launch takes stages here: ",
	} {
		if got := strings.Join(strings.Fields(explained(t, spec)["pid"]), " "); !strings.HasPrefix(got, want) || strings.HasSuffix(want, ": ") == (got == want) {
			t.Errorf("%q: explain says pid %q, want %q", spec, got, want)
		}
	}
	r := launch{spec: pid, cmd: "check"}.do(t)
	if r.code != 0 || !strings.Contains(r.stdout, ": pid 1: "+strings.TrimPrefix(found, "1 ")+"\n") || !strings.HasSuffix(r.stdout, ": ok\n") {
		t.Errorf("check: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat("/usr/bin/tini"); err != nil {
		skipOrFail(t, "tini is not installed: apt-get install tini")
	}
	r = launch{spec: pid + "init = \"/usr/bin/tini\"\n", cmd: "explain"}.do(t)
	if r.code != 125 || !strings.Contains(r.stderr, "namespaces.init: /usr/bin/tini is not a catatonit") {
		t.Errorf("init = tini: exit %d %q", r.code, r.stderr)
	}
}
