package supervisor

import (
	"fmt"
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
)

func landlockText(p *sandbox.Plan) string {
	var b strings.Builder
	explainLandlock(func(k, format string, args ...any) {
		fmt.Fprintf(&b, "%-17s %s\n", k, fmt.Sprintf(format, args...))
	}, p)
	return b.String()
}

// explain lists the rules and, against the kernel's ABI the plan recorded,
// what is enforced and what is not: best-effort on an old kernel says which
// rule goes unenforced and what the daemon may then do.
func TestExplainLandlock(t *testing.T) {
	l := &spec.Landlock{Set: true, Read: []string{"/usr", "/etc"}, Write: []string{"/var/lib/web"},
		Execute: []string{"/usr/sbin"}, BindTCP: []uint16{80, 443}, RestrictBind: true, Mode: spec.LandlockBestEffort}
	cases := []struct {
		abi  int
		want []string
	}{
		{7, []string{
			"landlock          mode best-effort, kernel Landlock ABI 7\n",
			"landlock.read     /usr /etc\n",
			"landlock.write    /var/lib/web\n",
			"landlock.execute  /usr/sbin\n",
			"landlock.bind_tcp 80 443\n",
			"landlock.connect_tcp any port (no key: not restricted)\n",
			"landlock enforces filesystem (ABI 1), refer (ABI 2), truncate (ABI 3), bind_tcp (ABI 4), ioctl_dev (ABI 5)\n",
		}},
		{3, []string{
			"landlock enforces filesystem (ABI 1), refer (ABI 2), truncate (ABI 3)\n",
			"landlock lacks    bind_tcp: not enforced, needs ABI 4 (bind is allowed on any TCP port)\n",
			"landlock lacks    ioctl_dev: not enforced, needs ABI 5 (ioctl on device files is allowed outside write)\n",
		}},
		{0, []string{
			"landlock enforces none\n",
			"landlock lacks    filesystem: not enforced, needs ABI 1 (no file access is restricted)\n",
		}},
	}
	for _, c := range cases {
		got := landlockText(&sandbox.Plan{Launch: sandbox.Launch{Landlock: l}, Names: sandbox.Names{LandlockABI: c.abi}})
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("ABI %d: no line %q in\n%s", c.abi, w, got)
			}
		}
		if c.abi == 7 && strings.Contains(got, "lacks") {
			t.Errorf("ABI 7 lacks something:\n%s", got)
		}
	}
	if got := landlockText(&sandbox.Plan{}); got != "landlock          none: files and TCP are not restricted by Landlock\n" {
		t.Errorf("without [landlock]: %q", got)
	}
}
