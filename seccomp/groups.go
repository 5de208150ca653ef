package seccomp

//go:generate go run gen_groups.go

// The table itself, groups, is zgroups.go, generated from systemd's.

// expand adds to set every system call that names reaches: a call's name as
// it is, a group's members, and nested groups' members, each group once.
// Names are kept whether or not the running architecture has them; the
// filter skips those its table lacks.
func expand(set map[string]bool, names []string) {
	seen := map[string]bool{}
	var walk func(name string)
	walk = func(name string) {
		members, isGroup := groups[name]
		if !isGroup {
			set[name] = true
			return
		}
		if seen[name] {
			return
		}
		seen[name] = true
		for _, m := range members {
			walk(m)
		}
	}
	for _, n := range names {
		walk(n)
	}
}

// Expand lists the system calls that names reach, groups expanded, sorted.
func Expand(names ...string) []string {
	set := map[string]bool{}
	expand(set, names)
	return sortedSet(set)
}
