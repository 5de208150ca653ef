// Command reach is bench/reach.sh's helper. It lives in a module of its own
// so that daemonbox itself never depends on moby's profile.
//
//	reach docker ROOTFS CONFIG ARGS...   write an OCI config.json for runc that
//	                                     carries Docker's default seccomp profile
//	reach systemd PLAIN                  compute the hardened unit's column from
//	                                     PLAIN, the probe's lines run unconfined
//	reach unit                           print that unit
//	reach names                          list, by name, what daemonbox's default
//	                                     filter lets through and Docker's refuses
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "docker":
		if len(os.Args) < 5 {
			usage()
		}
		err = writeDockerConfig(os.Args[2], os.Args[3], os.Args[4:])
	case "systemd":
		if len(os.Args) != 3 {
			usage()
		}
		err = printSystemd(os.Args[2])
	case "unit":
		fmt.Print(Unit)
	case "names":
		err = printNames()
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "reach: %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: reach docker ROOTFS CONFIG ARGS... | reach systemd PLAIN | reach unit | reach names")
	os.Exit(2)
}
