package completion

import (
	"fmt"
	"strings"
)

// fish is a list of complete commands, each conditioned on the command word.
func fish(cmds []Command) string {
	var b strings.Builder
	b.WriteString("# fish completion for daemonbox: daemonbox completion fish > ~/.config/fish/completions/daemonbox.fish\ncomplete -c daemonbox -f\n")
	b.WriteString("complete -c daemonbox -n __fish_use_subcommand -l help -d 'print the usage'\n")
	b.WriteString("complete -c daemonbox -n __fish_use_subcommand -l version -d 'print the version'\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "complete -c daemonbox -n __fish_use_subcommand -a %s -d '%s'\n", c.Name, plain(c.Summary))
	}
	for _, c := range cmds {
		when := fmt.Sprintf("-n '__fish_seen_subcommand_from %s'", c.Name)
		for _, f := range c.Flags {
			fmt.Fprintf(&b, "complete -c daemonbox %s -l %s%s -d '%s'\n", when, strings.TrimPrefix(f.Name, "--"), fishValue(f), plain(f.Help))
		}
		switch {
		case len(c.Args) > 0:
			fmt.Fprintf(&b, "complete -c daemonbox %s -a '%s'\n", when, strings.Join(c.Args, " "))
		case c.SpecFile:
			fmt.Fprintf(&b, "complete -c daemonbox %s -k -a '(__fish_complete_suffix .toml)'\n", when)
		}
	}
	return b.String()
}

func fishValue(f Flag) string {
	switch {
	case len(f.Values) > 0:
		return fmt.Sprintf(" -x -a '%s'", strings.Join(f.Values, " "))
	case f.Glob != "":
		return fmt.Sprintf(" -x -a '(__fish_complete_suffix %s)'", strings.TrimPrefix(f.Glob, "*"))
	case f.Dir:
		return " -x -a '(__fish_complete_directories)'"
	case f.TakesValue:
		return " -x"
	}
	return ""
}
