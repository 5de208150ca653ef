// Command daemonbox runs a daemon confined as a TOML spec declares.
//
//	daemonbox run spec.toml       apply the spec and exec the daemon (foreground)
//	daemonbox check spec.toml     validate the spec against this host; no side effects
//	daemonbox explain spec.toml   print the effective confinement
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
)

const usage = `usage: daemonbox <command> spec.toml

commands:
  run       apply the spec and run the daemon in the foreground
  check     validate the spec against this host (no side effects); exit 0 or 125
  explain   print the effective confinement after defaults and name resolution

exit codes: 125 daemonbox or spec error, 126 command not executable,
127 command not found, 128+n daemon killed by signal n, else the daemon's status
`

// daemonbox does its work from init, not main. Go runs init functions on the
// process's first thread and keeps the goroutine there, and the launch needs
// exactly that: credentials, capabilities, no_new_privs and the signal mask
// belong to a thread, and the thread that calls execve hands them to the
// daemon. Holding a thread from main would take runtime.LockOSThread, whose
// first call starts one more runtime thread: 0.3 ms here, a quarter of what
// daemonbox adds to a launch (bench/launch.sh).
func init() {
	sandbox.PrefaultHeap()
	// The init stage is daemonbox re-executed by its own supervisor.
	if sandbox.IsInit(os.Args) {
		os.Exit(sandbox.InitMain(os.Args))
	}
	os.Exit(daemonbox(os.Args[1:], os.Stdout, os.Stderr))
}

// main is never reached: init exits.
func main() {}

func daemonbox(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return sandbox.ExitFailure
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "run", "check", "explain":
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "start", "stop", "status", "reload", "restart", "export":
		fmt.Fprintf(stderr, "daemonbox: %s: not supported yet (this release has run, check and explain)\n", cmd)
		return sandbox.ExitFailure
	default:
		fmt.Fprintf(stderr, "daemonbox: unknown command %q\n%s", cmd, usage)
		return sandbox.ExitFailure
	}
	file, detach, ok := parseArgs(args)
	if !ok {
		fmt.Fprintf(stderr, "daemonbox %s: expected [--detach] and one spec file\n%s", cmd, usage)
		return sandbox.ExitFailure
	}
	if detach {
		fmt.Fprintln(stderr, "daemonbox: run --detach: not supported yet")
		return sandbox.ExitFailure
	}
	s, plan, err := sandbox.Load(file)
	if err != nil {
		return report(stderr, err)
	}
	switch cmd {
	case "check":
		for _, w := range sandbox.Warnings(s, plan) {
			fmt.Fprintln(stderr, "daemonbox: warning:", w)
		}
		fmt.Fprintf(stdout, "%s: ok\n", file)
		return 0
	case "explain":
		if err := sandbox.Explain(stdout, plan); err != nil {
			return report(stderr, err)
		}
		return 0
	}
	code, err := sandbox.Run(plan)
	if err != nil {
		report(stderr, err)
	}
	return code
}

// parseArgs reads "[--detach] spec.toml". The flag package would do, but it
// is the largest thing daemonbox would link for two words, and every package
// linked costs start-up time on the launch path.
func parseArgs(args []string) (file string, detach, ok bool) {
	for _, a := range args {
		switch {
		case a == "--detach" || a == "-detach":
			detach = true
		case strings.HasPrefix(a, "-") || file != "":
			return "", false, false
		default:
			file = a
		}
	}
	return file, detach, file != ""
}

// report prints each problem on a line of its own and returns the exit code.
func report(stderr io.Writer, err error) int {
	for _, e := range spec.List(err) {
		fmt.Fprintln(stderr, "daemonbox:", e)
	}
	return sandbox.ExitCode(err)
}
