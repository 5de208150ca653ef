package seccomp

import "sort"

// The running architecture's table is zsyscalls_GOARCH.go, static data that
// costs a launch nothing until a filter is built. Elsewhere the table is
// empty and Build refuses.

// numbered is one entry of the table.
type numbered struct {
	name string
	nr   int
}

func syscallNumber(name string) (int, bool) {
	i := sort.Search(len(syscallsByName), func(i int) bool { return syscallsByName[i].name >= name })
	if i < len(syscallsByName) && syscallsByName[i].name == name {
		return syscallsByName[i].nr, true
	}
	return 0, false
}

// hasTable says whether this architecture has a table to filter with.
func hasTable() bool { return len(syscallsByName) > 0 }
