package main

import (
	"fmt"
	"io"
	"strings"
)

// A command is one word of daemonbox's command line, with what help says
// about it and what completion offers. The flag sets, the usage text, each
// command's help and what completion offers are all made from this table,
// so they cannot disagree.
type command struct {
	name    string
	args    string // what follows the name in its synopsis
	summary string // its line in the usage text
	help    string // the paragraph `help NAME` adds
	flags   []flagDoc
	spec    bool     // takes one spec file, which completion offers as *.toml
	words   []string // or takes one of these words
	none    bool     // takes no operand
}

type flagDoc struct {
	name  string // "detach": --detach
	value string // "N", "systemd|oci", "FILE.service", "DIR", or "" for a switch
	help  string
}

// commands are in the order the usage text lists them.
var commands = []command{
	{name: "run", args: "[--detach] spec.toml", spec: true,
		summary: "apply the spec and run the daemon (in the foreground, unless detached)",
		help:    "Applies the spec to daemonbox itself and execs the daemon in place, or under a supervisor when the spec needs one ([daemon], cgroups, a PID namespace's init, log files). The exit code is the daemon's.",
		flags: []flagDoc{{"detach", "", "run it in the background under a supervisor (the same as start)"},
			{"strict", "", "with --detach: exit 125 when the daemon already runs"}}},
	{name: "start", args: "[--strict] spec.toml", spec: true,
		summary: "run it detached: return once it is ready, or fail saying why; 0 with a note if it already runs",
		help:    "Starts the daemon under a detached supervisor and returns once it is ready (daemon.ready, and daemon.start_settle), or fails saying why, leaving nothing behind. On a daemon that already runs it exits 0 with a note, as LSB asks.",
		flags:   []flagDoc{{"strict", "", "exit 125 when the daemon already runs"}}},
	{name: "stop", args: "spec.toml", spec: true,
		summary: "stop it: signals.stop, then SIGKILL after signals.stop_timeout",
		help:    "Sends signals.stop, then SIGKILL after signals.stop_timeout, and returns once the daemon is gone (0 also when it was not running)."},
	{name: "status", args: "spec.toml", spec: true,
		summary: "print whether it runs; exit 0 running, 1 failed, 3 stopped",
		help:    "Prints whether the daemon runs, its pid, uptime, restarts and last exit. Exit codes are LSB's: 0 running, 1 failed (given up, dead with a pidfile, or restarting after a failure), 3 not running, 4 unknown."},
	{name: "reload", args: "spec.toml", spec: true,
		summary: "send it signals.reload",
		help:    "Sends the daemon signals.reload (SIGHUP by default); exits 7 when it is not running."},
	{name: "restart", args: "[--strict] spec.toml", spec: true,
		summary: "stop, then start",
		flags:   []flagDoc{{"strict", "", "as start --strict"}}},
	{name: "reopen-logs", args: "spec.toml", spec: true,
		summary: "make its supervisor reopen its log files (after a rotation)",
		help:    "Makes the supervisor reopen the log files of [fds], after logrotate moved them; exits 7 when the daemon is not running."},
	{name: "list", args: "", none: true,
		summary: "the daemons running on this machine: name, pid, uptime, state",
		help:    "Lists the daemons whose pidfiles are in the pidfile directory (/run/daemonbox as root, $XDG_RUNTIME_DIR/daemonbox otherwise), and in-place runs with [resources]. A spec with its pidfile elsewhere is not seen."},
	{name: "check", args: "[--max-exposure N] spec.toml", spec: true,
		summary: "validate the spec against this host (no side effects); exit 0 or 125",
		help:    "Validates the spec against this host (users, groups, root directory, limits, privileges, cgroups, Landlock) with no side effect, and warns about risky settings. Exits 0 or 125.",
		flags:   []flagDoc{{"max-exposure", "N", "exit 125 when explain's exposure score (0 to 10) is above N"}}},
	{name: "explain", args: "spec.toml", spec: true,
		summary: "print the effective confinement after defaults and name resolution"},
	{name: "export", args: "--format systemd|oci [flags] spec.toml", spec: true,
		summary: "the same confinement as systemd units or an OCI runtime's config.json",
		help:    "Writes the confinement in another engine's terms: systemd units (stdout, or FILE.service and its socket units beside it), or an OCI runtime's config.json (stdout, or DIR/config.json). What cannot be carried is listed on stderr.",
		flags: []flagDoc{
			{"format", "systemd|oci", "the engine to write for (required)"},
			{"output", "FILE.service", "systemd: write the unit (and its sockets) to files"},
			{"systemd-version", "N", "systemd: the version to write for (default 252)"},
			{"bundle", "DIR", "oci: write DIR/config.json"},
		}},
	{name: "spec", args: "[--name NAME] [--from-unit FILE.service] [-- command...]",
		summary: "print a commented, hardened starter spec (or one translated from a systemd unit)",
		help:    "Prints a starter spec to stdout: hardened defaults, each commented, for the command after --. With --from-unit, translates a systemd service unit's [Service] settings instead, and lists as comments what has no equivalent.",
		flags: []flagDoc{
			{"name", "NAME", "the spec's name (default: the command's base name)"},
			{"from-unit", "FILE.service", "translate this systemd unit"},
		}},
	{name: "completion", args: "bash|zsh|fish", words: []string{"bash", "zsh", "fish"},
		summary: "print a shell completion script",
		help:    "Prints a completion script for bash (it needs the bash-completion package), zsh or fish. Load it with `source <(daemonbox completion bash)`, or install it where the shell looks (see README, Completion)."},
	{name: "help", args: "[command]",
		summary: "print this text, or one command's"},
	{name: "version", args: "", none: true,
		summary: "print daemonbox's version and the revision it was built from"},
}

func findCommand(name string) (*command, bool) {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i], true
		}
	}
	return nil, false
}

func commandNames() []string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return names
}

// writeUsage prints every command with its summary, then the exit codes.
func writeUsage(w io.Writer) {
	var b strings.Builder
	b.WriteString("usage: daemonbox <command> [flags] spec.toml\n       daemonbox help <command>\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-12s %s\n", c.name, c.summary)
	}
	b.WriteString(exitCodes)
	io.WriteString(w, b.String())
}

const exitCodes = `
exit codes: 125 daemonbox or spec error, 126 command not executable,
127 command not found, 128+n daemon killed by signal n, else the daemon's status;
reload and reopen-logs exit 7 when the daemon is not running
`

// writeHelp prints one command's synopsis, paragraph and flags.
func writeHelp(w io.Writer, c *command) {
	var b strings.Builder
	fmt.Fprintf(&b, "usage: daemonbox %s %s\n\n", c.name, c.args)
	text := c.help
	if text == "" {
		text = strings.ToUpper(c.summary[:1]) + c.summary[1:] + "."
	}
	b.WriteString(wrap(text, 78))
	if len(c.flags) > 0 {
		b.WriteString("\nflags:\n")
		for _, f := range c.flags {
			fmt.Fprintf(&b, "  %-32s %s\n", strings.TrimSpace("--"+f.name+" "+f.value), f.help)
		}
	}
	io.WriteString(w, b.String())
}

// wrap breaks text into lines of at most width columns, at spaces.
func wrap(text string, width int) string {
	var b strings.Builder
	n := 0
	for _, word := range strings.Fields(text) {
		if n > 0 && n+1+len(word) > width {
			b.WriteByte('\n')
			n = 0
		} else if n > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	b.WriteByte('\n')
	return b.String()
}
