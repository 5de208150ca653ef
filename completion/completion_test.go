package completion

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var testCommands = []Command{
	{Name: "run", Summary: "apply the spec: run it [now]", SpecFile: true, Flags: []Flag{{Name: "--detach", Help: "in the 'background'"}}},
	{Name: "export", Summary: "export", SpecFile: true, Flags: []Flag{
		{Name: "--format", TakesValue: true, Values: []string{"systemd", "oci"}},
		{Name: "--output", TakesValue: true, Glob: "*.service"},
		{Name: "--bundle", TakesValue: true, Dir: true},
		{Name: "--systemd-version", TakesValue: true},
	}},
	{Name: "completion", Summary: "a script", Args: []string{"bash", "zsh", "fish"}},
}

func TestScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		script, err := Script(shell, testCommands)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"run", "detach", "export", "format", "systemd", "toml", "help", ".service"} {
			if !strings.Contains(script, want) {
				t.Errorf("%s: the script lacks %q", shell, want)
			}
		}
		syntax(t, shell, script)
	}
	if _, err := Script("csh", testCommands); err == nil {
		t.Error("csh: no error")
	}
}

// syntax has the shell parse the script without running it, where the shell
// is installed.
func syntax(t *testing.T, shell, script string) {
	path, err := exec.LookPath(shell)
	if err != nil {
		t.Logf("%s is not installed: its script is not parsed", shell)
		return
	}
	file := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(path, "-n", file).CombinedOutput(); err != nil {
		t.Errorf("%s -n: %v\n%s", shell, err, out)
	}
}

// TestBashCompletes sources the bash script and asks it what it completes,
// as bash would on a tab.
func TestBashCompletes(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	script, _ := Script("bash", testCommands)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "script"), []byte(script), 0o644)
	for _, f := range []string{"web.toml", "notes.txt", "web.service"} {
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	for line, want := range map[string]string{
		"daemonbox ex":                   "export",
		"daemonbox run --de":             "--detach",
		"daemonbox run w":                "web.toml",
		"daemonbox export --format s":    "systemd",
		"daemonbox export --output w":    "web.service",
		"daemonbox completion f":         "fish",
		"daemonbox export --format oci ": "web.toml",
	} {
		if got := complete(t, dir, line); got != want {
			t.Errorf("%q completes to %q, want %q", line, got, want)
		}
	}
	out, err := exec.Command("bash", "-c", "source "+filepath.Join(dir, "script")+" && complete -p daemonbox").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "-F _daemonbox daemonbox") {
		t.Errorf("complete -p daemonbox: %v %s", err, out)
	}
}

// complete runs the completion function on line, its cursor at the end, in
// dir, and returns its one answer joined.
func complete(t *testing.T, dir, line string) string {
	words := strings.Fields(line)
	if strings.HasSuffix(line, " ") {
		words = append(words, "")
	}
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + w + "'"
	}
	prog := "source ./script; COMP_WORDS=(" + strings.Join(quoted, " ") + "); COMP_CWORD=" +
		strconv.Itoa(len(words)-1) + "; _daemonbox; echo \"${COMPREPLY[*]}\""
	cmd := exec.Command("bash", "-c", prog)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%q: %v %s", line, err, out)
	}
	return strings.TrimSpace(string(out))
}
