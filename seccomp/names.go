// Package seccomp is daemonbox's system call filter: systemd's syscall
// groups, and the BPF program built from an allow list and a deny list. It is
// a leaf: spec validates names against it, sandbox loads what it builds.
package seccomp

import "sort"

// Known reports whether name is a group ("@system-service") or a system call
// this build can filter on the running architecture.
func Known(name string) bool {
	if len(name) > 0 && name[0] == '@' {
		_, ok := lookupGroup(name)
		return ok
	}
	_, ok := syscallNumber(name)
	return ok
}

// GroupNames lists the groups, sorted, for suggestions.
func GroupNames() []string {
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = g.name
	}
	return out
}

func sortedSet(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
