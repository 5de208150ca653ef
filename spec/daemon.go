package spec

// [daemon]: detaching, the pidfile, the restart and readiness policies.

var (
	daemonKeys = []string{"detach", "pidfile", "restart", "ready", "ready_timeout", "start_settle", "watchdog"}
)

func (d *decoder) daemon(v any) {
	m, ok := d.table("daemon", v, daemonKeys)
	if !ok {
		return
	}
	dm := &d.s.Daemon
	each(m, daemonKeys, func(k string, x any) {
		key := "daemon." + k
		switch k {
		case "detach":
			dm.Detach, _ = d.boolean(key, x)
		case "pidfile":
			dm.Pidfile, _ = d.absPath(key, x)
		case "restart":
			if s, ok := d.choice(key, x, string(RestartNo), string(RestartOnFailure), string(RestartAlways)); ok {
				dm.Restart = Restart(s)
			}
		case "ready":
			if s, ok := d.choice(key, x, string(ReadyExec), string(ReadyNotify)); ok {
				dm.Ready = Ready(s)
			}
		case "ready_timeout":
			if t, ok := d.duration(key, x); ok {
				dm.ReadyTimeout = t
			}
		case "start_settle":
			if t, ok := d.duration(key, x); ok {
				dm.StartSettle = t
			}
		case "watchdog":
			if t, ok := d.duration(key, x); ok {
				dm.Watchdog = t
			}
		}
	})
	if dm.StartSettle > 0 && dm.Ready != ReadyExec {
		d.fail("daemon.start_settle", "only with ready = \"exec\": with \"notify\", start waits for READY=1")
	}
}
