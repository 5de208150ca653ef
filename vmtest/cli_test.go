package vmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// cli runs daemonbox with args and returns its stdout, stderr and exit code.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(daemonbox, args...)
	var out, errs strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errs
	err := cmd.Run()
	code := 0
	if e, ok := err.(*exec.ExitError); ok {
		code = e.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errs.String(), code
}

// Help and version exit 0 on stdout; the usage lists every command; an
// unknown command is 125 with a suggestion.
func TestHelpAndVersion(t *testing.T) {
	need(t)
	usage, _, code := cli(t, "help")
	for _, c := range []string{"run", "start", "stop", "status", "reload", "restart", "reopen-logs", "check", "explain", "export", "spec", "completion", "help", "version"} {
		if code != 0 || !strings.Contains(usage, "\n  "+c+" ") {
			t.Errorf("help: exit %d, no %q in\n%s", code, c, usage)
		}
	}
	for _, args := range [][]string{{"--help"}, {"-h"}, {"run", "--help"}, {"check", "-h"}, {"help", "export"}, {"export", "--format", "oci", "--help"}} {
		out, errs, code := cli(t, args...)
		if code != 0 || !strings.HasPrefix(out, "usage: daemonbox") || errs != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	if out, _, _ := cli(t, "run", "--help"); !strings.Contains(out, "--detach") {
		t.Errorf("run --help does not list --detach:\n%s", out)
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, _, code := cli(t, args...)
		if code != 0 || !strings.HasPrefix(out, "daemonbox ") || !strings.Contains(out, "go1.") {
			t.Errorf("%q: exit %d, %q", args, code, out)
		}
	}
	_, errs, code := cli(t, "stat", "x.toml")
	if code != 125 || !strings.Contains(errs, `unknown command "stat" (did you mean "start"?)`) {
		t.Errorf("stat: exit %d, %q", code, errs)
	}
	if _, errs, code := cli(t, "help", "nosuch"); code != 125 || !strings.Contains(errs, "unknown command") {
		t.Errorf("help nosuch: exit %d, %q", code, errs)
	}
}

// readmeBuild is the quick start's build command. -buildvcs=auto is the go
// command's default, spelled out: a GOFLAGS=-buildvcs=false in the
// environment or in `go env -w` (this machine's has one) would otherwise
// leave the revision out of the binary.
const readmeBuild = "CGO_ENABLED=0 go build -buildvcs=auto -o daemonbox ./cmd/daemonbox"

// The README's build command, run in this clone as it is, records the VCS
// revision, and --version shows it.
func TestVersionRevision(t *testing.T) {
	for _, tool := range []string{"git", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: a binary's revision cannot be recorded (or built) here", tool)
		}
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil || !strings.Contains(string(readme), readmeBuild) {
		t.Fatalf("README.md does not build with %q (%v)", readmeBuild, err)
	}
	rev, err := exec.Command("git", "-C", "..", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD: %v: the tests run from a git clone", err)
	}
	bin := filepath.Join(t.TempDir(), "daemonbox")
	args := strings.Fields(strings.Replace(strings.TrimPrefix(readmeBuild, "CGO_ENABLED=0 "), "-o daemonbox", "-o "+bin, 1))
	build := exec.Command(args[0], args[1:]...)
	build.Dir, build.Env = "..", append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", readmeBuild, err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	want := "revision " + strings.TrimSpace(string(rev))
	if err != nil || !regexp.MustCompile(`revision [0-9a-f]{12,}`).Match(out) || !strings.Contains(string(out), want) {
		t.Errorf("--version: %v %q, want %q", err, out, want)
	}
}

// The starter spec passes check as it is, and runs /bin/true.
func TestStarterSpecRuns(t *testing.T) {
	need(t)
	text, errs, code := cli(t, "spec", "--name", ownName("starter"), "--", "true")
	if code != 0 || !strings.Contains(text, `command = ["/`) {
		t.Fatalf("spec: exit %d %s\n%s", code, errs, text)
	}
	file := specFile(t, text)
	if out, errs, code := cli(t, "check", file); code != 0 || !strings.HasSuffix(out, ": ok\n") {
		t.Fatalf("check: exit %d %s %s", code, out, errs)
	}
	if out, errs, code := cli(t, "run", file); code != 0 {
		t.Errorf("run: exit %d %s %s", code, out, errs)
	}
	if _, errs, code := cli(t, "spec", "--", "no-such-daemon-x"); code != 125 || !strings.Contains(errs, "no-such-daemon-x") {
		t.Errorf("spec of a missing command: exit %d %q", code, errs)
	}
}

// Each completion script is made and parses in its shell, where the shell
// is installed; the scripts ask daemonbox's hidden __complete command what
// to offer (cmd/daemonbox/complete.go). What they offer is tested in each
// shell below, and through __complete here.
func TestCompletionScripts(t *testing.T) {
	need(t)
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, errs, code := cli(t, "completion", shell)
		if code != 0 || !strings.Contains(out, "daemonbox") || !strings.Contains(out, "__complete") {
			t.Errorf("completion %s: exit %d %s", shell, code, errs)
		}
		if _, err := exec.LookPath(shell); err != nil {
			t.Logf("%s is not installed: its script is not parsed", shell)
			continue
		}
		file := filepath.Join(t.TempDir(), "script")
		os.WriteFile(file, []byte(out), 0o644)
		if msg, err := exec.Command(shell, "-n", file).CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v %s", shell, err, msg)
		}
	}
	if _, _, code := cli(t, "completion", "csh"); code != 125 {
		t.Errorf("completion csh: exit %d", code)
	}
	for line, want := range map[string]string{
		"ex":                     "explain\t",  // with its summary
		"run ":                   "toml\n:8\n", // *.toml files, filtered by the shell
		"help ":                  "reopen-logs\n",
		"export --format ":       "systemd\noci\n",
		"export --output ":       "service\n:8\n",
		"export --bundle ":       ":16\n", // directories
		"spec --from-unit ":      "service\n:8\n",
		"completion ":            "bash\nzsh\nfish\n:4\n",
		"spec --name web -- ng":  ":0\n", // files, as for any command line
		"stop web.toml ":         ":4\n", // nothing more
		"run --detach ":          "toml\n:8\n",
		"run --de":               "--detach\t",
		"export --format=s":      "systemd\n:4\n", // the value alone: the scripts complete after "="
		"export --output=w":      "service\n:8\n",
		"export --format oci --": "--output", // flags not given yet
		"export --format oci w":  "toml\n:8\n",
		"check --max-exposure ":  ":4\n", // a number: nothing to offer
		"--v":                    "--version\t",
		"help st":                "start\nstop\nstatus\n:4\n",
	} {
		// The word under the cursor is the last, "" after a space.
		out, errs, code := cli(t, append([]string{"__complete"}, strings.Split(line, " ")...)...)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("__complete %q: exit %d, %q, want %q in it; %s", line, code, out, want, errs)
		}
	}
}

// bashCompletion is the bash-completion package's library, whose helpers
// the bash script uses when it is loaded (_get_comp_words_by_ref, _filedir).
const bashCompletion = "/usr/share/bash-completion/bash_completion"

// needShell skips t (fails it in strict mode) without the shell, or the file
// its completion needs.
func needShell(t *testing.T, shell, file, pkg string) {
	t.Helper()
	need(t)
	_, err := exec.LookPath(shell)
	if err == nil && file != "" {
		_, err = os.Stat(file)
	}
	if err != nil && inGuest {
		// Completion is not the kernel's business: the VM's guest packs
		// no shells, and the direct run (CI's first) tests them.
		t.Skipf("%v: the VM's guest has no shells; the run on the host tests completion", err)
	}
	if err != nil {
		if strict {
			t.Fatalf("%v: apt-get install %s", err, pkg)
		}
		t.Skipf("%v: apt-get install %s", err, pkg)
	}
}

// completionDir holds files to complete and the script of shell; the
// script finds daemonbox on PATH.
func completionDir(t *testing.T, shell string) (dir string, env []string) {
	script, errs, code := cli(t, "completion", shell)
	if code != 0 {
		t.Fatalf("completion %s: exit %d %s", shell, code, errs)
	}
	dir = t.TempDir()
	os.WriteFile(filepath.Join(dir, ".script"), []byte(script), 0o644)
	for _, f := range []string{"web.toml", "notes.txt", "web.service"} {
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	return dir, append(os.Environ(), "PATH="+filepath.Dir(daemonbox)+":"+os.Getenv("PATH"))
}

// In bash, with bash-completion loaded, tab completes commands, flags, a
// flag's values, spec files (*.toml, and directories) and help's words.
func TestBashCompletes(t *testing.T) {
	needShell(t, "bash", bashCompletion, "bash bash-completion")
	dir, env := completionDir(t, "bash")
	for line, want := range map[string]string{
		"daemonbox ex":                   "explain export",
		"daemonbox run --de":             "--detach",
		"daemonbox run w":                "web.toml",
		"daemonbox status ":              "web.toml sub",
		"daemonbox export --format s":    "systemd",
		"daemonbox export --output w":    "web.service",
		"daemonbox export --bundle ":     "sub",
		"daemonbox spec --from-unit w":   "web.service",
		"daemonbox completion f":         "fish",
		"daemonbox help sta":             "start status",
		"daemonbox export --format oci ": "web.toml sub",
		"daemonbox export --format=o":    "oci",
		"daemonbox export --output=w":    "web.service",
	} {
		if got, err := bashComplete(dir, env, bashCompletion, line); err != nil || got != want {
			t.Errorf("%q completes to %q (%v), want %q", line, got, err, want)
		}
	}
}

// Without bash-completion, the script completes with bash's compgen alone.
func TestBashCompletesAlone(t *testing.T) {
	needShell(t, "bash", "", "bash")
	dir, env := completionDir(t, "bash")
	env = append(env, "HOME="+filepath.Dir(daemonbox)) // for ~/daemonbox
	os.Mkdir(filepath.Join(dir, "g"), 0o755)
	os.WriteFile(filepath.Join(dir, "g", "web[1].toml"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "g", "web1.toml"), nil, 0o644)
	for line, want := range map[string]string{
		"daemonbox ex":                "explain export",
		"daemonbox run ":              "web.toml g sub",
		"daemonbox export --bundle ":  "g sub",
		"daemonbox export --output w": "web.service",
		"daemonbox spec -- no":        "notes.txt",
		"daemonbox export --format=o": "oci",
		"daemonbox export --format=":  "systemd oci",
		"daemonbox export --output=w": "web.service",
		"daemonbox run g/w":           "g/web[1].toml g/web1.toml", // as they are, not globbed
		"~/daemonbox ex":              "explain export",
	} {
		if got, err := bashComplete(dir, env, "/dev/null", line); err != nil || got != want {
			t.Errorf("%q completes to %q (%v), want %q", line, got, err, want)
		}
	}
}

// bashComplete runs the script in dir as bash does for a tab at the end of
// line, with lib sourced first, and returns what it offers.
func bashComplete(dir string, env []string, lib, line string) (string, error) {
	prog := `source ` + lib + `; source ./.script; line=$1
COMP_LINE=$line; COMP_POINT=${#line}; read -ra COMP_WORDS <<<"$line"
[[ $line == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
__start_daemonbox daemonbox "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
echo "${COMPREPLY[*]}"`
	cmd := exec.Command("bash", "-c", prog, "bash", line)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.Output()
	return strings.TrimSpace(string(out)), err
}

// In fish, complete -C lists what a tab offers: spec files are *.toml and
// directories, as in bash and zsh.
func TestFishCompletes(t *testing.T) {
	needShell(t, "fish", "", "fish")
	dir, env := completionDir(t, "fish")
	for line, want := range map[string][]string{
		"daemonbox ex":                 {"explain\t", "export\t"},
		"daemonbox run --de":           {"--detach\t"},
		"daemonbox run w":              {"web.toml"},
		"daemonbox export --format ":   {"oci", "systemd"},
		"daemonbox help sta":           {"start\n", "status\n"},
		"daemonbox completion ":        {"bash", "fish", "zsh"},
		"daemonbox spec --from-unit w": {"web.service"},
		"daemonbox status ":            {"web.toml", "sub/"},
		"daemonbox export --format=o":  {"--format=oci"},
		"daemonbox export --output=w":  {"--output=web.service"},
	} {
		cmd := exec.Command("fish", "--no-config", "-c", "source ./.script; complete -C $argv[1]", line)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		for _, w := range want {
			if err != nil || !strings.Contains(string(out), w) {
				t.Errorf("%q offers %q (%v), want %q among them", line, out, err, w)
			}
		}
		if strings.Contains(line, "status") && strings.Contains(string(out), "notes.txt") {
			t.Errorf("%q offers %q: a file that is no spec", line, out)
		}
	}
}

// README's "confine your own daemon in five minutes", with sleep for nginx
// (whose edits need www-data's directories and port 80): spec, check,
// start, status, stop, each as the README runs it.
func TestFiveMinutes(t *testing.T) {
	need(t)
	text, errs, code := cli(t, "spec", "--name", ownName("five"), "--", "sleep", "600")
	if code != 0 {
		t.Fatalf("spec: exit %d %s", code, errs)
	}
	file := specFile(t, text)
	steps := []struct {
		cmd  string
		code int
		want string
	}{
		{"check", 0, ": ok\n"},
		{"start", 0, ""},
		{"status", 0, "running"},
		{"stop", 0, ""},
		{"status", 3, "not running"},
	}
	for _, s := range steps {
		out, errs, code := cli(t, s.cmd, file)
		if code != s.code || !strings.Contains(out, s.want) {
			t.Fatalf("%s: exit %d, want %d; %q %q, want %q in it", s.cmd, code, s.code, out, errs, s.want)
		}
		if s.cmd == "start" {
			t.Cleanup(func() { cli(t, "stop", file) })
		}
	}
}

// zshStubs stand in for zsh's completion system, which needs a terminal:
// each prints what the script hands it, for the test to read.
const zshStubs = `compdef() { :; }
_describe() { print -rl -- "${(@P)2}"; }
_arguments() { print -r -- "_arguments $*"; }
compadd() { print -r -- "compadd $*"; }
source ./.script
words=(${=1}); [[ $1 == *" " ]] && words+=("")
CURRENT=${#words}
_daemonbox
`

// In zsh, the script's function hands zsh's completion system the commands
// with their summaries, a flag's values, and _files with *.toml for a spec
// file or -/ for a directory (zsh itself then matches the word typed).
func TestZshCompletes(t *testing.T) {
	needShell(t, "zsh", "", "zsh")
	dir, env := completionDir(t, "zsh")
	for line, want := range map[string]string{
		"daemonbox ex":                 "export:the same confinement",
		"daemonbox run ":               `_files -g \*.toml`,
		"daemonbox export --format ":   "systemd\noci\n",
		"daemonbox export --bundle ":   "_files -/",
		"daemonbox spec --from-unit ":  `_files -g \*.service`,
		"daemonbox completion ":        "bash\nzsh\nfish\n",
		"daemonbox help ":              "reopen-logs\n",
		"daemonbox status web.toml --": "--help",
		"daemonbox export --format=":   "systemd\noci\n",
	} {
		cmd := exec.Command("zsh", "-f", "-c", zshStubs, "zsh", line)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			t.Errorf("%q: %v %q, want %q in it", line, err, out, want)
		}
	}
}

// A command line daemonbox cannot read exits 125 and says why on stderr,
// whether its flag set reads it or the two-word fast path (a spec command with its
// file alone) would have taken it; export with its file alone is not fast.
func TestUsageErrors(t *testing.T) {
	need(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "x.toml"}, "daemonbox export: --format systemd or --format oci is required"},
		{[]string{"run", "a.toml", "b.toml"}, "daemonbox run: expected one spec file"},
		{[]string{"run"}, "daemonbox run: expected one spec file"},
		{[]string{"stop", "--strict", "x.toml"}, "daemonbox stop: unknown flag: --strict"},
		{[]string{"list", "x"}, "daemonbox list: takes no arguments"},
		{[]string{"check", "--max-exposure", "11", "x.toml"}, `--max-exposure "11": expected a number from 0 to 10`},
		{[]string{"spec", "nginx"}, `unexpected "nginx" (the command goes after --)`},
		{[]string{"completion", "csh"}, "expected one of bash, zsh, fish"},
		{[]string{"--bogus"}, "daemonbox: unknown flag: --bogus"},
		{[]string{}, "usage: daemonbox"},
	} {
		out, errs, code := cli(t, c.args...)
		if code != 125 || out != "" || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 125 and %q", c.args, code, out, errs, c.want)
		}
	}
}
