package vmtest

import (
	"os"
	"os/exec"
	"path/filepath"
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

// version names the revision a binary was built from, when the go command
// recorded it.
func TestVersionRevision(t *testing.T) {
	need(t)
	rev, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git work tree: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "daemonbox")
	build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "../cmd/daemonbox")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("go build -buildvcs=true: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.Contains(string(out), "revision "+strings.TrimSpace(string(rev))) {
		t.Errorf("version: %v %q, want revision %s", err, out, rev)
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

// Each completion script is made; bash's parses.
func TestCompletionScripts(t *testing.T) {
	need(t)
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, errs, code := cli(t, "completion", shell)
		if code != 0 || !strings.Contains(out, "daemonbox") || !strings.Contains(out, "reopen-logs") {
			t.Errorf("completion %s: exit %d %s", shell, code, errs)
		}
		if _, err := exec.LookPath(shell); err != nil {
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
}
