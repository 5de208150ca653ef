module daemonbox-bench-reach

go 1.26.8

require (
	github.com/daemonbox/daemonbox v0.0.0
	github.com/moby/profiles/seccomp v0.3.0
	github.com/opencontainers/runtime-spec v1.2.1
)

require golang.org/x/sys v0.49.0 // indirect

// The filter compared is this repository's own.
replace github.com/daemonbox/daemonbox => ../..
