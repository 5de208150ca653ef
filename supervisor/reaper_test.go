package supervisor

import (
	"os"
	"os/exec"
	"testing"
)

func TestParentOfAndDescends(t *testing.T) {
	cmd := exec.Command("/bin/sh", "-c", "read x")
	w, err := cmd.StdinPipe() // the child lives until the test closes it
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skip("no /bin/sh:", err)
	}
	defer func() { w.Close(); cmd.Wait() }()
	pid := cmd.Process.Pid
	if got := parentOf(pid); got != os.Getpid() {
		t.Errorf("parentOf(child) = %d, want %d", got, os.Getpid())
	}
	if !descends(pid) {
		t.Error("a child does not descend from its parent")
	}
	if descends(1) || descends(os.Getppid()) {
		t.Error("init or the test's parent taken as a descendant")
	}
	if parentOf(-1) != 0 {
		t.Error("parentOf of no process is not 0")
	}
	found := false
	for _, c := range children() {
		found = found || c == pid
	}
	if !found {
		t.Errorf("children() = %v, lacks %d", children(), pid)
	}
}
