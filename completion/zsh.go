package completion

import (
	"fmt"
	"strings"
)

// zsh is a #compdef function: installed in $fpath as _daemonbox it is
// autoloaded; sourced, it registers itself with compdef.
func zsh(cmds []Command) string {
	var b strings.Builder
	b.WriteString("#compdef daemonbox\n# zsh completion for daemonbox: daemonbox completion zsh > \"${fpath[1]}/_daemonbox\"\n_daemonbox() {\n    local -a commands\n    commands=(\n")
	for _, c := range cmds {
		fmt.Fprintf(&b, "        '%s:%s'\n", c.Name, plain(c.Summary))
	}
	b.WriteString(`    )
    if (( CURRENT == 2 )); then
        _describe -t commands 'daemonbox command' commands
        _arguments '--help[print the usage]' '--version[print the version]'
        return
    fi
    local cmd=${words[2]}
    shift words
    (( CURRENT-- ))
    case $cmd in
`)
	for _, c := range cmds {
		fmt.Fprintf(&b, "    %s) _arguments", c.Name)
		for _, f := range c.Flags {
			fmt.Fprintf(&b, " '%s'", zshFlag(f))
		}
		switch {
		case len(c.Args) > 0:
			fmt.Fprintf(&b, " '1:argument:(%s)'", strings.Join(c.Args, " "))
		case c.SpecFile:
			b.WriteString(` '1:spec file:_files -g "*.toml"'`)
		}
		b.WriteString(" ;;\n")
	}
	b.WriteString(`    esac
}
if [ "$funcstack[1]" = "_daemonbox" ]; then
    _daemonbox "$@"
else
    compdef _daemonbox daemonbox
fi
`)
	return b.String()
}

func zshFlag(f Flag) string {
	spec := fmt.Sprintf("%s[%s]", f.Name, plain(f.Help))
	switch {
	case len(f.Values) > 0:
		return spec + fmt.Sprintf(":value:(%s)", strings.Join(f.Values, " "))
	case f.Glob != "":
		return spec + fmt.Sprintf(`:file:_files -g "%s"`, f.Glob)
	case f.Dir:
		return spec + ":directory:_files -/"
	case f.TakesValue:
		return spec + ":value: "
	}
	return spec
}
