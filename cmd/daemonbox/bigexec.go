//go:build bigexec

package main

import (
	"os"
	"syscall"
)

// Built with -tags bigexec (bench/launch.sh), daemonbox execs its arguments
// before any work of its own, from the init that runs just before the one in
// main.go (a package's files initialize in name order). The image is
// daemonbox's, initializers included, so its launch time minus
// bench/execonly's is what the image costs a launch.
//
//	daemonbox-bigexec /bin/true
func init() {
	if len(os.Args) < 2 {
		os.Stderr.WriteString("usage: daemonbox-bigexec CMD [ARGS...]\n")
		os.Exit(2)
	}
	err := syscall.Exec(os.Args[1], os.Args[1:], os.Environ())
	os.Stderr.WriteString("daemonbox-bigexec: " + err.Error() + "\n")
	os.Exit(127)
}
