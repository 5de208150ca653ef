package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/daemonbox/daemonbox/internal/flags"
	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/scaffold"
)

// specCmd runs "spec [--name NAME] [--from-unit FILE] [-- command...]".
func specCmd(fs *flags.Set, args []string, stdout, stderr io.Writer) int {
	name, unit, command, problem := specArgs(fs, args)
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

// specArgs reads spec's flags, and the daemon's command line after "--":
// the flags stop at "--", so the command's own flags (nginx -g ...) stay its.
func specArgs(fs *flags.Set, args []string) (name, unit string, command []string, problem string) {
	name = fs.GetString("name")
	unit = fs.GetString("from-unit")
	dash := fs.ArgsLenAtDash()
	switch {
	case dash != 0 && len(args) > 0:
		return "", "", nil, fmt.Sprintf("unexpected %q (the command goes after --)", args[0])
	case unit != "" && len(args) > 0:
		return "", "", nil, "--from-unit takes the command from the unit, not after --"
	}
	return name, unit, args, ""
}
