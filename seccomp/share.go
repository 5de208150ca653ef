package seccomp

// Lets is the share of the calls that names stand for (groups expanded,
// only those of the running architecture) that the policy lets through: 1
// when all are allowed, 0 when all are refused. A call allowed only for some
// arguments (clone without CLONE_NEW*, personality locked) counts half.
func (p Policy) Lets(names ...string) float64 {
	d := p.decide()
	allowed := map[string]float64{}
	for _, n := range d.allow {
		allowed[n] = 1
	}
	if d.checkClone {
		allowed["clone"] = 0.5
	}
	if d.personality {
		allowed["personality"] = 0.5
	}
	known := nativeNames()
	var sum float64
	count := 0
	for _, n := range Expand(names...) {
		if known[n] {
			sum += allowed[n]
			count++
		}
	}
	if count == 0 {
		return 0
	}
	return sum / float64(count)
}
