package sandbox

// landlock restricts this thread, the one that execs, to Launch.Landlock.
func (l *launch) landlock() error {
	return nil
}
