package main

import (
	"fmt"
	"io"
	"runtime/debug"

	"github.com/daemonbox/daemonbox/internal/flags"
	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
)

// helpCmd runs "help [command]".
func helpCmd(_ *flags.Set, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeUsage(stdout)
		return 0
	}
	c, ok := findCommand(args[0])
	if !ok || len(args) > 1 {
		fmt.Fprintf(stderr, "daemonbox help: unknown command %q%s\n", args[0], spec.DidYouMean(args[0], commandNames()))
		return sandbox.ExitFailure
	}
	writeHelp(stdout, c)
	return 0
}

// versionCmd prints the module version and the VCS revision and time the
// binary was built from, as the go command recorded them. A binary built
// outside a module or a repository has none, and says so.
func versionCmd(stdout io.Writer) int {
	fmt.Fprintln(stdout, versionText(debug.ReadBuildInfo()))
	return 0
}

func versionText(info *debug.BuildInfo, ok bool) string {
	if !ok {
		return "daemonbox (devel), no build information"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var rev, at, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if rev == "" {
		return fmt.Sprintf("daemonbox %s, %s, no VCS revision recorded", version, info.GoVersion)
	}
	return fmt.Sprintf("daemonbox %s, revision %s (%s%s), %s", version, rev, at, modified, info.GoVersion)
}

// completionCmd runs "completion bash|zsh|fish": the script asks daemonbox
// itself (its hidden __complete command) what to offer, so a new command or
// flag of the table is completed with no script edited.
func completionCmd(_ *flags.Set, args []string, stdout, _ io.Writer) int {
	io.WriteString(stdout, completionScripts[args[0]])
	return 0
}
