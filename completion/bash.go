package completion

import (
	"fmt"
	"strings"
)

// bash completes commands, then the command's flags, a flag's value, and its
// operand: spec files (*.toml, and directories to reach them) or a word list.
func bash(cmds []Command) string {
	var b strings.Builder
	b.WriteString(`# bash completion for daemonbox: source <(daemonbox completion bash)
_daemonbox() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    if [ "$COMP_CWORD" -eq 1 ]; then
        COMPREPLY=($(compgen -W "` + names(cmds) + ` --help --version" -- "$cur"))
        return
    fi
    local flags="" words="" spec=0
    case "${COMP_WORDS[1]}" in
`)
	for _, c := range cmds {
		spec := 0
		if c.SpecFile {
			spec = 1
		}
		fmt.Fprintf(&b, "    %s) flags=%q; words=%q; spec=%d ;;\n", c.Name, flagNames(c), strings.Join(c.Args, " "), spec)
	}
	b.WriteString("    *) return ;;\n    esac\n    case \"${COMP_WORDS[1]} $prev\" in\n")
	for _, c := range cmds {
		for _, f := range c.Flags {
			if f.TakesValue {
				fmt.Fprintf(&b, "    %q) %s; return ;;\n", c.Name+" "+f.Name, bashValue(f))
			}
		}
	}
	b.WriteString(`    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    elif [ -n "$words" ]; then
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    elif [ "$spec" = 1 ]; then
        _daemonbox_files '*.toml'
    fi
}
# _daemonbox_files offers the files matching a pattern, and directories.
_daemonbox_files() {
    local IFS=$'\n'
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -X "!$1" -- "$cur") $(compgen -d -- "$cur"))
}
complete -F _daemonbox daemonbox
`)
	return b.String()
}

func bashValue(f Flag) string {
	switch {
	case len(f.Values) > 0:
		return fmt.Sprintf("COMPREPLY=($(compgen -W %q -- \"$cur\"))", strings.Join(f.Values, " "))
	case f.Glob != "":
		return fmt.Sprintf("_daemonbox_files '%s'", f.Glob)
	case f.Dir:
		return `compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur"))`
	}
	return "COMPREPLY=()"
}
