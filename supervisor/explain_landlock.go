package supervisor

import (
	"fmt"
	"strings"

	"github.com/daemonbox/daemonbox/sandbox"
)

// explainLandlock shows [landlock]: its rules, the kernel's Landlock ABI
// (read when the plan was made), and which of what the rules ask the
// kernel enforces, and what the daemon may do where it does not.
func explainLandlock(line func(k, format string, args ...any), p *sandbox.Plan) {
	l := p.Landlock
	if l == nil {
		line("landlock", "none: files and TCP are not restricted by Landlock")
		return
	}
	line("landlock", "mode %s, kernel Landlock ABI %d", l.Mode, p.LandlockABI)
	line("landlock.read", "%s", orNone(strings.Join(l.Read, " ")))
	line("landlock.write", "%s", orNone(strings.Join(l.Write, " ")))
	line("landlock.execute", "%s", orNone(strings.Join(l.Execute, " ")))
	line("landlock.bind_tcp", "%s", describePorts(l.BindTCP, l.RestrictBind))
	line("landlock.connect_tcp", "%s", describePorts(l.ConnectTCP, l.RestrictConnect))
	var enforced, lacks []string
	for _, f := range sandbox.LandlockFeatures(l) {
		if p.LandlockABI >= f.ABI {
			enforced = append(enforced, fmt.Sprintf("%s (ABI %d)", f.Name, f.ABI))
		} else {
			lacks = append(lacks, fmt.Sprintf("%s: not enforced, needs ABI %d (%s)", f.Name, f.ABI, f.Without))
		}
	}
	line("landlock enforces", "%s", orNone(strings.Join(enforced, ", ")))
	for _, s := range lacks {
		line("landlock lacks", "%s", s)
	}
}

func describePorts(ports []uint16, restricted bool) string {
	switch {
	case !restricted:
		return "any port (no key: not restricted)"
	case len(ports) == 0:
		return "none"
	}
	return strings.Trim(fmt.Sprint(ports), "[]")
}
