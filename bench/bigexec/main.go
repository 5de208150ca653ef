// Command bigexec execs its arguments from its own first line of code, like
// bench/execonly, but it is a Go image of daemonbox's size: it links what
// cmd/daemonbox links, initializers included. Its launch time minus
// execonly's is what daemonbox's image costs a launch, before any of
// daemonbox's own work.
//
//	bigexec /bin/true
package main

import (
	"fmt"
	"os"
	"syscall"

	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
)

// init execs at the point where cmd/daemonbox starts its work: after every
// package's initializer, on the process's first thread.
func init() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bigexec CMD [ARGS...]")
		os.Exit(2)
	}
	if os.Args[1] != "-link" {
		err := syscall.Exec(os.Args[1], os.Args[1:], os.Environ())
		fmt.Fprintln(os.Stderr, "bigexec:", err)
		os.Exit(127)
	}
}

// main is reached only as "bigexec -link FILE", which the benchmark never
// runs. It makes the linker keep what cmd/daemonbox calls, so that the two
// images are alike in size.
func main() {
	if len(os.Args) != 3 || sandbox.IsInit(os.Args) || sandbox.IsSupervisor(os.Args) {
		os.Exit(sandbox.InitMain(os.Args) + sandbox.SuperviseMain(os.Args))
	}
	file := os.Args[2]
	if plan, err := sandbox.LoadControl(file); err == nil {
		sandbox.Status(os.Stdout, plan)
		sandbox.Stop(os.Stdout, plan)
		sandbox.Reload(plan)
		sandbox.ReopenLogs(plan)
	}
	s, plan, err := sandbox.Load(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, spec.List(err))
		os.Exit(sandbox.ExitCode(err))
	}
	fmt.Println(sandbox.Warnings(s, plan), sandbox.Explain(os.Stdout, plan))
	code, err := sandbox.Run(plan)
	fmt.Println(code, err)
}
