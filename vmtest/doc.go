// Package vmtest holds daemonbox's kernel tests: the built binary runs real
// specs as root, and a probe program inside the sandbox reports what the
// kernel says about it, which the tests compare with the spec.
//
// Run them as root: `go test ./vmtest`. Without root every test skips and says
// why; with DAEMONBOX_VMTEST_STRICT=1 (set by CI) a skip is a failure.
package vmtest
