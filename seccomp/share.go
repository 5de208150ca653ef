package seccomp

// Lets is the share of the calls that names stand for (groups expanded,
// only those of the running architecture) that the policy lets through: 1
// when all are allowed, 0 when all are refused. A call allowed only for some
// arguments (clone without CLONE_NEW*, personality locked) counts half.
func (p Policy) Lets(names ...string) float64 {
	v := p.verdicts()
	weight := [...]float64{noSys: 0, refuse: 0, allow: 1, cloneNoNew: 0.5, personality: 0.5, socketChecked: 1, mmapNoWX: 1, protNoExec: 1, shmNoExec: 1}
	var sum float64
	count := 0
	for _, n := range Expand(names...) {
		if nr, ok := syscallNumber(n); ok {
			sum += weight[v[nr]]
			count++
		}
	}
	if count == 0 {
		return 0
	}
	return sum / float64(count)
}

// FirstRefused is the first of names (each one system call) that the
// policy refuses outright, "" if it lets them all: Lets for a list, with
// the verdicts worked out once rather than once a name (each costs a walk
// of the whole policy, some 20 µs).
func (p Policy) FirstRefused(names ...string) string {
	v := p.verdicts()
	for _, n := range names {
		if nr, ok := syscallNumber(n); ok && (v[nr] == noSys || v[nr] == refuse) {
			return n
		}
	}
	return ""
}
