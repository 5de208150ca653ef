// The runtime's cgroup-aware GOMAXPROCS (Go 1.25 and later) keeps the CPU
// cgroup's limit files open for the life of the process, to read them again.
// A daemonbox stage has no use for it, and PID 1 of a PID namespace must
// hold nothing of the host's; with these, the files are read once and
// closed, and no goroutine rereads them.
//
//go:debug containermaxprocs=0
//go:debug updatemaxprocs=0

// Command daemonbox runs a daemon confined as a TOML spec declares.
//
//	daemonbox run spec.toml           apply the spec and run the daemon (foreground)
//	daemonbox start spec.toml         run it detached, under a supervisor
//	daemonbox stop|status|reload|restart|reopen-logs spec.toml
//	daemonbox check [--max-exposure N] spec.toml  validate against this host; no side effects
//	daemonbox explain spec.toml       print the effective confinement
//	daemonbox list                    the daemons that run, from the pidfile directory
//	daemonbox export --format systemd|oci spec.toml  the confinement as systemd units or an OCI config.json
//	daemonbox spec [--name NAME] [--from-unit FILE.service] [-- command...]  a starter spec
//	daemonbox completion bash|zsh|fish; daemonbox help [command]; daemonbox version
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/daemonbox/daemonbox/internal/flags"
	_ "github.com/daemonbox/daemonbox/internal/pollfd"   // the runtime's poller above the fds listen sockets take
	_ "github.com/daemonbox/daemonbox/internal/prefault" // heap mapped ahead, before most initializers
	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
	"github.com/daemonbox/daemonbox/supervisor"
)

// daemonbox does its work from init, not main. Go runs init functions on the
// process's first thread and keeps the goroutine there, and the launch needs
// exactly that: credentials, capabilities, no_new_privs and the signal mask
// belong to a thread, and the thread that calls execve hands them to the
// daemon. Holding a thread from main would take runtime.LockOSThread, whose
// first call starts one more runtime thread, a sizeable share of what
// daemonbox adds to a launch (docs/design.md, bench/launch.sh).
func init() {
	// The init stage is daemonbox re-executed by its own supervisor.
	if sandbox.IsInit(os.Args) {
		os.Exit(sandbox.InitMain(os.Args))
	}
	// So is a detached supervisor, by daemonbox start.
	if supervisor.IsSupervisor(os.Args) {
		os.Exit(supervisor.SuperviseMain(os.Args))
	}
	os.Exit(daemonbox(os.Args[1:], os.Stdout, os.Stderr))
}

// main is never reached: init exits.
func main() {}

// specFileCmd runs a command that takes one spec file.
func specFileCmd(cmd string) runner {
	return func(fs *flags.Set, args []string, stdout, stderr io.Writer) int {
		opt := options{maxExposure: supervisor.NoMaxExposure}
		// A flag the command lacks reads as false.
		opt.detach = fs.GetBool("detach")
		opt.strict = fs.GetBool("strict")
		if fs.Changed("max-exposure") {
			s := fs.GetString("max-exposure")
			n, ok := exposureBound(s)
			if !ok {
				fmt.Fprintf(stderr, "daemonbox %s: --max-exposure %q: expected a number from 0 to 10\n", cmd, s)
				return sandbox.ExitFailure
			}
			opt.maxExposure = n
		}
		return dispatch(cmd, args[0], opt, stdout, stderr)
	}
}

func dispatch(cmd, file string, opt options, stdout, stderr io.Writer) int {
	switch cmd {
	case "stop", "status", "reload", "reopen-logs":
		return control(cmd, file, stdout, stderr)
	case "restart":
		if code := control("stop", file, stdout, stderr); code != 0 {
			return code
		}
		cmd, opt.detach = "start", true
	case "start":
		opt.detach = true
	}
	return launch(cmd, file, opt, stdout, stderr)
}

// listCmd runs "list".
func listCmd(_ *flags.Set, _ []string, stdout, _ io.Writer) int {
	return supervisor.List(stdout, sandbox.DefaultPidfileDir())
}

// launch runs the commands that read the spec against this host: check,
// explain, and run (start is run detached).
func launch(cmd, file string, opt options, stdout, stderr io.Writer) int {
	s, plan, err := sandbox.Load(file)
	if err != nil {
		code := report(stderr, err)
		if cmd == "check" || cmd == "explain" {
			code = sandbox.ExitFailure // they validate: any problem is the spec's
		}
		return code
	}
	switch cmd {
	case "check":
		return supervisor.Check(stdout, stderr, file, s, plan, opt.maxExposure)
	case "explain":
		if err := supervisor.Explain(stdout, plan); err != nil {
			return report(stderr, err)
		}
		return 0
	}
	plan.Detach = plan.Detach || opt.detach
	// LSB: start on a running service succeeds; --strict keeps 125. A
	// start that lost a race to another is told after its failure.
	startOK := plan.Detach && !opt.strict
	if startOK && supervisor.AlreadyRunning(stdout, plan) {
		return 0
	}
	code, err := supervisor.Run(plan)
	if err != nil && startOK && supervisor.AlreadyRunning(stdout, plan) {
		return 0
	}
	if err != nil {
		report(stderr, err)
	}
	return code
}

// control runs the commands that act on a running daemon through its pidfile.
func control(cmd, file string, stdout, stderr io.Writer) int {
	plan, err := sandbox.LoadControl(file)
	if err != nil {
		return report(stderr, err)
	}
	var code int
	switch cmd {
	case "status":
		return supervisor.Status(stdout, plan)
	case "stop":
		code, err = supervisor.Stop(stdout, plan)
	case "reload":
		code, err = supervisor.Reload(plan)
	case "reopen-logs":
		code, err = supervisor.ReopenLogs(plan)
	}
	if err != nil {
		fmt.Fprintln(stderr, "daemonbox:", err)
	}
	return code
}

// options are the flags a command takes besides its spec file.
type options struct {
	detach      bool
	maxExposure float64
	strict      bool // start: a running daemon is an error (125), not LSB's success
}

// exposureBound reads N of --max-exposure: 0 to 10.
func exposureBound(s string) (float64, bool) {
	n, err := strconv.ParseFloat(s, 64)
	return n, err == nil && n >= 0 && n <= 10
}

// report prints each problem on a line of its own and returns the exit code.
func report(stderr io.Writer, err error) int {
	for _, e := range spec.List(err) {
		fmt.Fprintln(stderr, "daemonbox:", e)
	}
	return sandbox.ExitCode(err)
}
