package cgroup

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Own is daemonbox's own v2 cgroup, from /proc/self/cgroup's "0::" line,
// relative to the root ("" for the root itself).
func Own() (string, error) {
	paths, err := ownPaths()
	if err != nil {
		return "", fmt.Errorf("read /proc/self/cgroup: %w", err)
	}
	own, ok := paths[""]
	if !ok {
		return "", fmt.Errorf("/proc/self/cgroup has no cgroup v2 line")
	}
	return strings.Trim(own, "/"), nil
}

// Delegated reports whether the v2 cgroup at path (relative to the root)
// was handed to this process to manage: systemd marks a cgroup it
// delegates (Delegate=yes, and every user's user@.service) with the
// extended attribute user.delegate or trusted.delegate (systemd 251 and
// later), and its directory, cgroup.procs and cgroup.subtree_control must
// be writable by this process.
func Delegated(path string) bool {
	dir := filepath.Join(Root, path)
	marked := false
	for _, name := range []string{"user.delegate", "trusted.delegate"} {
		if _, err := unix.Getxattr(dir, name, nil); err == nil {
			marked = true
		}
	}
	return marked && Writable(path)
}

// Writable reports whether this process may make groups under path and
// move processes into them (the kernel also asks for write access to the
// common ancestor of a process's old and new groups, which a delegated
// subtree that holds daemonbox gives).
func Writable(path string) bool {
	dir := filepath.Join(Root, path)
	for _, p := range []string{dir, filepath.Join(dir, "cgroup.procs"), filepath.Join(dir, "cgroup.subtree_control")} {
		if unix.Access(p, unix.W_OK) != nil {
			return false
		}
	}
	return true
}
