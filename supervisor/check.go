package supervisor

import (
	"fmt"
	"io"

	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
)

// NoMaxExposure is check's bound when --max-exposure is not given.
const NoMaxExposure = -1

// Check prints the warnings of a spec that is valid, then "ok", and
// returns the exit code: 0, or ExitFailure when its exposure score is above
// maxExposure (NoMaxExposure for no bound), so that CI can gate on it.
func Check(stdout, stderr io.Writer, file string, s *spec.Spec, p *sandbox.Plan, maxExposure float64) int {
	// What only start would fail on fails check too: check answers for
	// start as well as for run.
	for _, e := range p.StartErrs {
		fmt.Fprintln(stderr, "daemonbox:", e)
	}
	if len(p.StartErrs) > 0 {
		return sandbox.ExitFailure
	}
	for _, w := range sandbox.Warnings(s, p) {
		fmt.Fprintln(stderr, "daemonbox: warning:", w)
	}
	if p.PIDNS {
		// Which PID 1 runs is the host's choice (catatonit installed or
		// not), not the spec's: say it, above the verdict.
		fmt.Fprintf(stdout, "%s: pid 1: %s\n", file, p.PID1)
	}
	if maxExposure != NoMaxExposure {
		score := sandbox.ExposureScore(p.Exposures())
		if score > maxExposure {
			fmt.Fprintf(stderr, "daemonbox: %s: exposure %.1f %s is above --max-exposure %.1f (see daemonbox explain)\n", file, score, sandbox.ExposureLabel(score), maxExposure)
			return sandbox.ExitFailure
		}
		fmt.Fprintf(stdout, "%s: ok, exposure %.1f %s\n", file, score, sandbox.ExposureLabel(score))
		return 0
	}
	fmt.Fprintf(stdout, "%s: ok\n", file)
	return 0
}
