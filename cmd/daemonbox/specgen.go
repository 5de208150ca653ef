package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/scaffold"
)

// specCmd runs "spec [--name NAME] [--from-unit FILE] [-- command...]".
func specCmd(args []string, stdout, stderr io.Writer) int {
	name, unit, command, problem := parseSpecArgs(args)
	if problem == "" && len(command) > 0 && !filepath.IsAbs(command[0]) {
		// A spec's command is an absolute path; the shell's lookup is the
		// one a person means by "nginx".
		path, err := exec.LookPath(command[0])
		if err != nil {
			problem = fmt.Sprintf("command %q: %v; give its absolute path", command[0], err)
		} else {
			command[0], _ = filepath.Abs(path)
		}
	}
	if problem != "" {
		fmt.Fprintln(stderr, "daemonbox spec:", problem)
		return sandbox.ExitFailure
	}
	if unit == "" {
		io.WriteString(stdout, scaffold.Starter(name, command))
		return 0
	}
	data, err := os.ReadFile(unit)
	if err != nil {
		fmt.Fprintln(stderr, "daemonbox spec:", err)
		return sandbox.ExitFailure
	}
	text, err := scaffold.FromUnit(unit, data, name)
	if err != nil {
		fmt.Fprintln(stderr, "daemonbox spec:", err)
		return sandbox.ExitFailure
	}
	io.WriteString(stdout, text)
	return 0
}

func parseSpecArgs(args []string) (name, unit string, command []string, problem string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		flag, value, inline := cutFlag(a)
		switch {
		case a == "--":
			command = args[i+1:]
			if unit != "" && len(command) > 0 {
				return "", "", nil, "--from-unit takes the command from the unit, not after --"
			}
			return name, unit, command, ""
		case flag != "--name" && flag != "--from-unit":
			return "", "", nil, fmt.Sprintf("unexpected %q (the command goes after --)", a)
		case !inline && i+1 >= len(args):
			return "", "", nil, a + " needs a value"
		case !inline:
			i++
			value = args[i]
		}
		if flag == "--name" {
			name = value
		} else {
			unit = value
		}
	}
	return name, unit, nil, ""
}

// cutFlag splits "--flag=value".
func cutFlag(a string) (flag, value string, inline bool) {
	for i := 0; i < len(a); i++ {
		if a[i] == '=' {
			return a[:i], a[i+1:], true
		}
	}
	return a, "", false
}
