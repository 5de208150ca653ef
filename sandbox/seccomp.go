package sandbox

// seccomp installs Launch.Filter on this thread, the one that execs.
func (l *launch) seccomp() error {
	return nil
}
