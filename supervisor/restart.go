package supervisor

import (
	"time"

	"github.com/daemonbox/daemonbox/spec"
)

// The restart policy's timing. systemd restarts after RestartSec (100 ms)
// and gives up after StartLimitBurst (5) starts in StartLimitIntervalSec
// (10 s); daemonbox waits longer after each failure in a row instead, and
// counts restarts in a wider window, so that a daemon failing slowly is given
// up on as well as one failing fast.
const (
	backoffFirst = 100 * time.Millisecond
	backoffMax   = 30 * time.Second
	// A run this long counts as healthy: the next delay starts over.
	backoffReset = 10 * time.Second
	// startLimit restarts within startWindow, and the supervisor gives up.
	startLimit  = 5
	startWindow = 60 * time.Second
)

// restarter decides whether and when to start the daemon again.
type restarter struct {
	policy   spec.Restart
	delay    time.Duration
	restarts []time.Time // within the window
}

// again reports whether a daemon that ended with status code should be
// started again under the policy.
func (r *restarter) again(code int) bool {
	switch r.policy {
	case spec.RestartAlways:
		return true
	case spec.RestartOnFailure:
		return code != 0
	}
	return false
}

// next returns how long to wait before restarting, at now, a daemon whose
// last run lasted ran; false means the start limit is reached.
func (r *restarter) next(now time.Time, ran time.Duration) (time.Duration, bool) {
	kept := r.restarts[:0]
	for _, t := range r.restarts {
		if now.Sub(t) < startWindow {
			kept = append(kept, t)
		}
	}
	r.restarts = kept
	if len(r.restarts) >= startLimit {
		return 0, false
	}
	r.restarts = append(r.restarts, now)
	switch {
	case ran >= backoffReset || r.delay == 0:
		r.delay = backoffFirst
	case r.delay < backoffMax:
		r.delay = min(2*r.delay, backoffMax)
	}
	return r.delay, true
}
