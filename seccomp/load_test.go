package seccomp

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestLoad installs the default filter on one locked thread, which exits with
// its goroutine, and checks that it applies there and nowhere else.
func TestLoad(t *testing.T) {
	prog, err := Policy{Allow: []string{ServiceGroup}}.Build()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the runtime ends the thread with the goroutine
		done <- loadAndTry(prog)
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if mode := seccompMode(t, "/proc/thread-self/status"); mode != "0" {
		t.Errorf("the test's own thread has Seccomp: %s, want 0", mode)
	}
}

func loadAndTry(prog []byte) error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %v", err)
	}
	if err := Load(prog); err != nil {
		return fmt.Errorf("Load: %v", err)
	}
	b, err := os.ReadFile("/proc/thread-self/status")
	if err != nil {
		return err
	}
	if !strings.Contains(string(b), "\nSeccomp:\t2\n") {
		return errors.New("the loading thread is not in filter mode")
	}
	if _, _, e := unix.Syscall(unix.SYS_MOUNT, 0, 0, 0); e != unix.EPERM {
		return fmt.Errorf("mount: %v, want EPERM", e)
	}
	if _, _, e := unix.Syscall(1000, 0, 0, 0); e != unix.ENOSYS {
		return fmt.Errorf("number 1000: %v, want ENOSYS", e)
	}
	if unix.Getpid() != os.Getpid() {
		return errors.New("getpid disagrees")
	}
	return nil
}

func seccompMode(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Seccomp:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func TestLoadRefusesBadProgram(t *testing.T) {
	if err := Load(nil); err == nil {
		t.Error("Load(nil) succeeded")
	}
}
