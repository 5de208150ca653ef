package main

import (
	"fmt"
	"sort"
	"strings"

	dbseccomp "github.com/daemonbox/daemonbox/seccomp"
	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// printNames compares, name by name over the running architecture's table,
// daemonbox's default filter with Docker's default profile (no capabilities
// kept) and with SystemCallFilter=@system-service: the probe tries a few
// calls; this covers every one, arguments aside.
func printNames() error {
	docker, err := dockerAllows()
	if err != nil {
		return err
	}
	service, err := systemGroup("@system-service")
	if err != nil {
		return err
	}
	def := dbseccomp.Policy{Allow: []string{dbseccomp.ServiceGroup}}
	var notDocker, notSystemd []string
	count := 0
	for _, name := range universe(docker) {
		if (dbseccomp.Policy{Allow: []string{name}}).Lets(name) == 0 {
			continue // not a call of this architecture
		}
		count++
		if def.Lets(name) == 0 {
			continue
		}
		if !docker[name] {
			notDocker = append(notDocker, name)
		}
		if !service[name] {
			notSystemd = append(notSystemd, name)
		}
	}
	fmt.Printf("names compared (this architecture's calls named by systemd's groups or Docker's profile): %d\n", count)
	fmt.Printf("daemonbox's default lets through, Docker's default profile refuses outright (%d): %s\n",
		len(notDocker), strings.Join(notDocker, " "))
	fmt.Printf("daemonbox's default lets through, @system-service refuses (%d): %s\n",
		len(notSystemd), strings.Join(notSystemd, " "))
	return nil
}

// dockerAllows are the calls Docker's default profile lets through for some
// arguments, resolved for a container with no capabilities.
func dockerAllows() (map[string]bool, error) {
	spec := dockerSpec([]string{"/probe"})
	profile, err := seccomp.GetDefaultProfile(spec)
	if err != nil {
		return nil, err
	}
	allows := map[string]bool{}
	for _, rule := range profile.Syscalls {
		if rule.Action == specs.ActAllow {
			for _, n := range rule.Names {
				allows[n] = true
			}
		}
	}
	return allows, nil
}

// universe is every name systemd's groups hold and Docker's profile allows.
func universe(docker map[string]bool) []string {
	set := map[string]bool{}
	for _, n := range dbseccomp.Expand(dbseccomp.GroupNames()...) {
		set[n] = true
	}
	for n := range docker {
		set[n] = true
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
