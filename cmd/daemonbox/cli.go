package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
	"github.com/daemonbox/daemonbox/supervisor"
)

// A runner carries out one command and returns daemonbox's exit code. fs
// holds the command's parsed flags; args are its operands.
type runner func(fs *pflag.FlagSet, args []string, stdout, stderr io.Writer) int

// daemonbox reads the command line and returns the exit code. Each
// command's flags are read with spf13/pflag (GNU style: --flag, --flag=v,
// --flag v, flags among operands, -- to end them), from the table in
// commands.go, which help and completion read too. The stages daemonbox
// re-executes itself as never get here: init dispatches them first.
//
// The command tree is daemonbox's own, not spf13/cobra's: cobra links
// text/template and regexp, and their initializers and pages cost 0.6 ms
// at every start of the image, which each launch pays once and a staged
// launch twice (issue 20, bench/isolation.sh).
func daemonbox(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeUsage(stderr)
		return sandbox.ExitFailure
	}
	switch w := args[0]; {
	case w == completeCmd || w == completeNoDescCmd:
		return complete(args[1:], w == completeCmd, stdout)
	case strings.HasPrefix(w, "-"):
		return rootFlags(args, stdout, stderr)
	}
	t, ok := findCommand(args[0])
	if !ok {
		fmt.Fprintf(stderr, "daemonbox: unknown command %q%s\n", args[0], spec.DidYouMean(args[0], commandNames()))
		writeUsage(stderr)
		return sandbox.ExitFailure
	}
	// A spec command with its file alone, as service managers and scripts
	// launch daemons, skips the flag set: pflag would read these two words
	// no differently. (export is not one: it needs --format.)
	if t.spec && t.name != "export" && len(args) == 2 && !strings.HasPrefix(args[1], "-") {
		return dispatch(t.name, args[1], options{maxExposure: supervisor.NoMaxExposure}, stdout, stderr)
	}
	fs := flagSet(t)
	if err := fs.Parse(args[1:]); err != nil {
		return usageError(t, err, stderr)
	}
	if help, _ := fs.GetBool("help"); help {
		writeHelp(stdout, t)
		return 0
	}
	if err := operands(t, fs.Args()); err != nil {
		return usageError(t, err, stderr)
	}
	return runnerFor(t.name)(fs, fs.Args(), stdout, stderr)
}

// rootFlags runs a command line that starts with a flag: daemonbox's own,
// --help (-h) and --version (-V). A command's flags go after its name.
func rootFlags(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("daemonbox", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	help := fs.BoolP("help", "h", false, "")
	version := fs.BoolP("version", "V", false, "")
	err := fs.Parse(args)
	switch {
	case err == nil && *help:
		writeUsage(stdout)
		return 0
	case err == nil && *version && fs.NArg() == 0:
		return versionCmd(stdout)
	case err == nil && fs.NArg() > 0:
		err = fmt.Errorf("unknown command %q%s", fs.Arg(0), spec.DidYouMean(fs.Arg(0), commandNames()))
	case err == nil:
		err = errors.New("a command is needed")
	}
	fmt.Fprintln(stderr, "daemonbox:", err)
	writeUsage(stderr)
	return sandbox.ExitFailure
}

// flagSet is t's flags, from the table, and --help (-h).
func flagSet(t *command) *pflag.FlagSet {
	fs := pflag.NewFlagSet(t.name, pflag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported by usageError
	fs.BoolP("help", "h", false, "print this command's help")
	for _, f := range t.flags {
		if f.value == "" {
			fs.Bool(f.name, false, f.help)
		} else {
			fs.String(f.name, "", f.help)
		}
	}
	return fs
}

// usageError reports a command line that pflag or a command's operands
// refused: exit 125, with that command's help on stderr.
func usageError(t *command, err error, stderr io.Writer) int {
	fmt.Fprintf(stderr, "daemonbox %s: %v\n", t.name, err)
	writeHelp(stderr, t)
	return sandbox.ExitFailure
}

// runnerFor is the function behind each command of the table.
func runnerFor(name string) runner {
	switch name {
	case "list":
		return listCmd
	case "export":
		return exportCmd
	case "spec":
		return specCmd
	case "completion":
		return completionCmd
	case "help":
		return helpCmd
	case "version":
		return func(_ *pflag.FlagSet, _ []string, stdout, _ io.Writer) int { return versionCmd(stdout) }
	}
	return specFileCmd(name)
}

// operands checks what follows a command's flags.
func operands(t *command, args []string) error {
	switch {
	case t.spec && len(args) != 1:
		return fmt.Errorf("expected one spec file")
	case t.none && len(args) != 0:
		return fmt.Errorf("takes no arguments")
	case len(t.words) > 0 && (len(args) != 1 || !slices.Contains(t.words, args[0])):
		return fmt.Errorf("expected one of %s", strings.Join(t.words, ", "))
	}
	return nil
}
