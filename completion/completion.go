// Package completion writes daemonbox's shell completion scripts for bash,
// zsh and fish from the command line's own table of commands and flags, so
// that a new command or flag is completed without editing three scripts.
package completion

import (
	"fmt"
	"strings"
)

// A Command is one daemonbox command as the scripts complete it.
type Command struct {
	Name     string
	Summary  string
	Flags    []Flag
	SpecFile bool     // its operand is a spec file: *.toml
	Args     []string // its operand is one of these words instead
}

// A Flag is a command's flag and what its value completes to.
type Flag struct {
	Name       string // "--format"
	Help       string
	TakesValue bool
	Values     []string // the value is one of these
	Glob       string   // the value is a file matching this, e.g. "*.service"
	Dir        bool     // the value is a directory
}

// Script returns the completion script for shell: bash, zsh or fish.
func Script(shell string, cmds []Command) (string, error) {
	cmds = withHelp(cmds)
	switch shell {
	case "bash":
		return bash(cmds), nil
	case "zsh":
		return zsh(cmds), nil
	case "fish":
		return fish(cmds), nil
	}
	return "", fmt.Errorf("shell %q: expected bash, zsh or fish", shell)
}

// withHelp gives every command -h and --help, which the command line accepts
// after any of them.
func withHelp(cmds []Command) []Command {
	out := make([]Command, len(cmds))
	for i, c := range cmds {
		c.Flags = append(append([]Flag{}, c.Flags...), Flag{Name: "--help", Help: "print this command's help"})
		out[i] = c
	}
	return out
}

// names returns the commands' names, space-separated.
func names(cmds []Command) string {
	out := make([]string, len(cmds))
	for i, c := range cmds {
		out[i] = c.Name
	}
	return strings.Join(out, " ")
}

func flagNames(c Command) string {
	out := make([]string, len(c.Flags))
	for i, f := range c.Flags {
		out[i] = f.Name
	}
	return strings.Join(out, " ")
}

// plain makes help text safe inside any of the scripts' quotes and zsh's
// [...] and :...: specs, by dropping the characters that would need escaping.
func plain(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\'', '"', '[', ']', ':', '\\', '`', '$', '\n':
			return -1
		}
		return r
	}, s)
}
