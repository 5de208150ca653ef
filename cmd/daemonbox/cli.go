package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
	"github.com/daemonbox/daemonbox/supervisor"
)

// A runner carries out one command and returns daemonbox's exit code.
type runner func(c *cobra.Command, args []string, stdout, stderr io.Writer) int

// daemonbox reads the command line with cobra (spf13/cobra, with
// spf13/pflag: GNU-style flags, help, and bash, zsh and fish completion
// generated from the same command tree) and returns the exit code. The
// stages daemonbox re-executes itself as never get here: init dispatches
// them first, so only cobra's package initialization is on their path.
func daemonbox(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeUsage(stderr)
		return sandbox.ExitFailure
	}
	// An unknown command gets daemonbox's own did-you-mean, the one the
	// spec's keys get, before cobra reads any flag.
	if w := args[0]; !strings.HasPrefix(w, "-") && !strings.HasPrefix(w, cobra.ShellCompRequestCmd) {
		if _, ok := findCommand(w); !ok {
			fmt.Fprintf(stderr, "daemonbox: unknown command %q%s\n", w, spec.DidYouMean(w, commandNames()))
			writeUsage(stderr)
			return sandbox.ExitFailure
		}
	}
	// A spec command with its file alone, as service managers and scripts
	// launch daemons, skips cobra: building and walking the command tree
	// added about 1 ms to each launch (bench/launch.sh), and pflag would
	// read these two words no differently.
	// (export is not one: it needs --format.)
	if t, ok := findCommand(args[0]); ok && t.spec && t.name != "export" && len(args) == 2 && !strings.HasPrefix(args[1], "-") {
		return dispatch(t.name, args[1], options{maxExposure: supervisor.NoMaxExposure}, stdout, stderr)
	}
	code := 0
	root := newRoot(&code, stdout, stderr)
	root.SetArgs(args)
	if c, err := root.ExecuteC(); err != nil {
		return usageError(c, err, stderr)
	}
	return code
}

// usageError reports a command line that cobra or a command's operands
// refused: exit 125, with that command's help on stderr.
func usageError(c *cobra.Command, err error, stderr io.Writer) int {
	t, ok := findCommand(c.Name())
	if !ok || c == c.Root() {
		fmt.Fprintln(stderr, "daemonbox:", err)
		writeUsage(stderr)
		return sandbox.ExitFailure
	}
	fmt.Fprintf(stderr, "daemonbox %s: %v\n", t.name, err)
	writeHelp(stderr, t)
	return sandbox.ExitFailure
}

// newRoot makes the command tree from the table in commands.go. Each
// command's runner stores its exit code in *code.
func newRoot(code *int, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{Use: "daemonbox", Args: cobra.NoArgs,
		SilenceErrors: true, SilenceUsage: true, DisableSuggestions: true}
	root.CompletionOptions.DisableDefaultCmd = true // completion is in the table
	version := root.Flags().BoolP("version", "V", false, "print the version")
	root.RunE = func(*cobra.Command, []string) error {
		if !*version {
			return fmt.Errorf("a command is needed")
		}
		*code = versionCmd(stdout)
		return nil
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.SetHelpFunc(func(c *cobra.Command, _ []string) {
		if t, ok := findCommand(c.Name()); ok && c != root {
			writeHelp(stdout, t)
		} else {
			writeUsage(stdout)
		}
	})
	for i := range commands {
		sub := subcommand(&commands[i], runnerFor(commands[i].name), code, stdout, stderr)
		if commands[i].name == "help" {
			root.SetHelpCommand(sub)
		} else {
			root.AddCommand(sub)
		}
	}
	return root
}

// subcommand makes one command of the table a cobra command: its flags, what
// it takes, and what completion offers for each.
func subcommand(t *command, run runner, code *int, stdout, stderr io.Writer) *cobra.Command {
	c := &cobra.Command{Use: t.name, Short: t.summary, Args: operands(t), ValidArgsFunction: completeOperand(t)}
	for _, f := range t.flags {
		if f.value == "" {
			c.Flags().Bool(f.name, false, f.help)
			continue
		}
		c.Flags().String(f.name, "", f.help)
		c.RegisterFlagCompletionFunc(f.name, completeValue(f.value))
	}
	c.RunE = func(c *cobra.Command, args []string) error {
		*code = run(c, args, stdout, stderr)
		return nil
	}
	return c
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
		return func(_ *cobra.Command, _ []string, stdout, _ io.Writer) int { return versionCmd(stdout) }
	}
	return specFileCmd(name)
}

// operands checks what follows a command's flags.
func operands(t *command) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
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
}

// completeOperand offers spec files (*.toml, and directories to reach
// them), a command's words, or command names after help.
func completeOperand(t *command) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		switch {
		case t.name == "spec":
			return nil, cobra.ShellCompDirectiveDefault // the daemon's command line
		case len(args) > 0 || t.none:
			return nil, cobra.ShellCompDirectiveNoFileComp
		case t.spec:
			return []cobra.Completion{"toml"}, cobra.ShellCompDirectiveFilterFileExt
		case t.name == "help":
			return commandNames(), cobra.ShellCompDirectiveNoFileComp
		}
		return t.words, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeValue offers a flag's value from its placeholder: one of
// "a|b", a FILE.ext, a DIR, or nothing to offer.
func completeValue(value string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		switch {
		case strings.Contains(value, "|"):
			return strings.Split(value, "|"), cobra.ShellCompDirectiveNoFileComp
		case strings.HasPrefix(value, "FILE."):
			return []cobra.Completion{strings.TrimPrefix(value, "FILE.")}, cobra.ShellCompDirectiveFilterFileExt
		case value == "DIR":
			return nil, cobra.ShellCompDirectiveFilterDirs
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}
