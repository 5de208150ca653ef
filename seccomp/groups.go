package seccomp

import (
	"slices"
	"sort"
)

//go:generate go run gen_groups.go
//go:generate go run gen_syscalls.go

// The table itself, groups, is zgroups.go, generated from systemd's.

// group is one of systemd's groups: its name ("@basic-io") and members.
type group struct {
	name    string
	members []string
}

// lookupGroup finds a group by name in the sorted table.
func lookupGroup(name string) ([]string, bool) {
	if i, ok := groupIndex(name); ok {
		return groups[i].members, true
	}
	return nil, false
}

// groupIndex is a group's place in the table, and in groupNumbers.
func groupIndex(name string) (int, bool) {
	if name == "" || name[0] != '@' {
		return 0, false
	}
	i := sort.Search(len(groups), func(i int) bool { return groups[i].name >= name })
	return i, i < len(groups) && groups[i].name == name
}

// expandEach calls f with every system call that names reach: a call's name
// as it is, a group's members, and nested groups' members, each group once.
// Names are given whether or not the running architecture has them.
func expandEach(names []string, f func(call string)) {
	seen := make([]string, 0, len(groups)) // groups walked
	var walk func(name string)
	walk = func(name string) {
		members, isGroup := lookupGroup(name)
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
