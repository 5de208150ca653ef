package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/daemonbox/daemonbox/internal/flags"
	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
	"github.com/daemonbox/daemonbox/supervisor"
)

// A runner carries out one command and returns daemonbox's exit code. fs
// holds the command's parsed flags; args are its operands.
type runner func(fs *flags.Set, args []string, stdout, stderr io.Writer) int

// daemonbox reads the command line and returns the exit code. Each
// command's flags are read the GNU way (flags.go: --flag, --flag=v,
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
	// launch daemons, skips the flag set, which would read these two words
	// no differently. (export is not one: it needs --format.)
	if t.spec && t.name != "export" && len(args) == 2 && !strings.HasPrefix(args[1], "-") {
		return dispatch(t.name, args[1], options{maxExposure: supervisor.NoMaxExposure}, stdout, stderr)
	}
	fs := commandFlags(t)
	if err := fs.Parse(args[1:]); err != nil {
		return usageError(t, err, stderr)
	}
	if fs.GetBool("help") {
		writeHelp(stdout, t)
		return 0
	}
	if err := operands(t, fs.Args()); err != nil {
		return usageError(t, err, stderr)
	}
	return runnerFor(t.name)(fs, fs.Args(), stdout, stderr)
}

// rootFlags runs a command line that starts with a flag: daemonbox's own,
// --help (-h) and --version (-V), or a command's, which then reads them.
func rootFlags(args []string, stdout, stderr io.Writer) int {
	if i := commandAfterFlags(args); i > 0 {
		return daemonbox(slices.Concat(args[i:i+1], args[:i], args[i+1:]), stdout, stderr)
	}
	fs := flags.New()
	fs.Bool("help")
	fs.Shorthand('h', "help")
	fs.Bool("version")
	fs.Shorthand('V', "version")
	err := fs.Parse(args)
	switch {
	case err == nil && fs.GetBool("help"):
		writeUsage(stdout)
		return 0
	case err == nil && fs.GetBool("version") && len(fs.Args()) == 0:
		return versionCmd(stdout)
	case err == nil && len(fs.Args()) > 0:
		w := fs.Args()[0]
		err = fmt.Errorf("unknown command %q%s", w, spec.DidYouMean(w, commandNames()))
		if _, ok := findCommand(w); ok {
			err = fmt.Errorf("%q after --: the command goes first", w)
		}
	case err == nil:
		err = errors.New("a command is needed")
	}
	fmt.Fprintln(stderr, "daemonbox:", err)
	writeUsage(stderr)
	return sandbox.ExitFailure
}

// commandAfterFlags finds a command named after leading flags, as cobra
// found it: --version (-V) is a switch; any other flag without "=" takes
// the next word as its value (so "--help run" is daemonbox's help, and
// "--detach run x" an unknown flag); after "--" there is none. It returns
// the command's index, or 0.
func commandAfterFlags(args []string) int {
	for i := 0; i < len(args); {
		w := args[i]
		switch {
		case w == "--":
			return 0
		case !strings.HasPrefix(w, "-"):
			if _, ok := findCommand(w); ok {
				return i
			}
			return 0
		case w == "-V" || w == "--version" || strings.Contains(w, "="):
			i++
		default:
			i += 2
		}
	}
	return 0
}

// commandFlags is t's flags, from the table, and --help (-h).
func commandFlags(t *command) *flags.Set {
	fs := flags.New()
	fs.Bool("help")
	fs.Shorthand('h', "help")
	for _, f := range t.flags {
		if f.value == "" {
			fs.Bool(f.name)
		} else {
			fs.String(f.name)
		}
	}
	return fs
}

// usageError reports a command line that the flags or a command's operands
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
		return func(_ *flags.Set, _ []string, stdout, _ io.Writer) int { return versionCmd(stdout) }
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
