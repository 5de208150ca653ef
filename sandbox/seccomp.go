package sandbox

import "github.com/daemonbox/daemonbox/seccomp"

// seccomp installs Launch.Filter on this thread, the one that execs; the
// kernel keeps it across execve. no_new_privs is already set (the spec
// refuses a filter without it).
func (l *launch) seccomp() error {
	if l.plan.Filter == nil {
		return nil
	}
	if err := seccomp.Load(l.plan.Filter); err != nil {
		return OpError("load filter", "", err)
	}
	return nil
}
