package seccomp

import "slices"

//go:generate go run gen_groups.go

// The table itself, groups, is zgroups.go, generated from systemd's.

// expandEach calls f with every system call that names reach: a call's name
// as it is, a group's members, and nested groups' members, each group once.
// Names are given whether or not the running architecture has them.
func expandEach(names []string, f func(call string)) {
	seen := make([]string, 0, len(groups)) // groups walked
	var walk func(name string)
	walk = func(name string) {
		members, isGroup := groups[name]
		if !isGroup {
			f(name)
			return
		}
		if slices.Contains(seen, name) {
			return
		}
		seen = append(seen, name)
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
	expandEach(names, func(call string) { set[call] = true })
	return sortedSet(set)
}
