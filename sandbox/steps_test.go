package sandbox

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestGetcwd covers a short path and one longer than getcwd's first buffer.
// It changes the test process's directory, so it is not parallel.
func TestGetcwd(t *testing.T) {
	orig, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chdir(orig) })
	short := t.TempDir()
	long := filepath.Join(short, strings.Repeat("d", 200), strings.Repeat("e", 200))
	if err := os.MkdirAll(long, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{short, long} {
		if err := os.Chdir(dir); err != nil {
			t.Fatal(err)
		}
		want, _ := os.Getwd()
		got, err := getcwd()
		if err != nil || got != want {
			t.Errorf("getcwd() in %d-byte path = %q, %v; want %q", len(want), got, err, want)
		}
	}
}

// The order of the launch is data: these are the constraints its comments
// give, checked without root.
func TestSequenceOrder(t *testing.T) {
	var names []string
	for _, s := range sequence {
		names = append(names, s.name)
	}
	want := []string{"nondumpable", "session", "oom-score-adj", "status", "namespaces", "hostname", "loopback",
		"notify", "mounts", "root", "pid1", "rlimits", "umask", "fds",
		"bounding", "keep-caps", "groups", "gid", "uid", "capabilities", "parent-death", "signals",
		"no-new-privs", "cwd", "verify", "listen", "ready", "landlock", "seccomp", "exec"}
	if !slices.Equal(names, want) {
		t.Fatalf("sequence %q\nwant     %q", names, want)
	}
	before := func(a, b string) {
		if slices.Index(names, a) >= slices.Index(names, b) {
			t.Errorf("%s must come before %s", a, b)
		}
	}
	before("nondumpable", "root")      // protected while privileged work is done
	before("oom-score-adj", "root")    // needs the host's /proc
	before("status", "root")           // the same
	before("status", "signals")        // signals reads it
	before("root", "bounding")         // chroot needs CAP_SYS_CHROOT
	before("namespaces", "hostname")   // the hostname is the new UTS namespace's
	before("namespaces", "mounts")     // or the mounts land on the host
	before("mounts", "root")           // pivot_root needs the prepared root
	before("status", "mounts")         // the host's /proc, before it is hidden
	before("root", "pid1")             // the daemon's process inherits the root
	before("pid1", "rlimits")          // every per-process step runs in the daemon's own process
	before("rlimits", "uid")           // raising needs CAP_SYS_RESOURCE
	before("bounding", "uid")          // needs CAP_SETPCAP
	before("keep-caps", "uid")         // or permitted is lost
	before("groups", "gid")            // needs CAP_SETGID
	before("gid", "uid")               // needs CAP_SETGID
	before("uid", "capabilities")      // the uid change clears effective
	before("uid", "parent-death")      // the uid change clears it
	before("capabilities", "verify")   //
	before("signals", "verify")        //
	before("no-new-privs", "verify")   //
	before("verify", "exec")           //
	before("no-new-privs", "landlock") // the kernel's rule for an unprivileged thread
	before("no-new-privs", "seccomp")  // the same
	before("root", "landlock")         // rules name paths inside the root
	before("verify", "landlock")       // verify reads /proc, which the rules may hide
	before("landlock", "seccomp")      // landlock_restrict_self is not in every filter
	before("ready", "seccomp")         // a filter may refuse the write
	before("pid1", "listen")           // LISTEN_PID is the daemon's own pid
	before("listen", "seccomp")        // a filter may refuse getpid
}

func TestStepErrors(t *testing.T) {
	e := AtStep("root", OpError("chroot", "/srv/www", syscall.EACCES))
	if e.Error() != `step "root": chroot /srv/www: permission denied` || !errors.Is(e, syscall.EACCES) {
		t.Errorf("%q", e)
	}
	for errno, code := range map[syscall.Errno]int{syscall.ENOENT: 127, syscall.EACCES: 126, syscall.ENOEXEC: 126, syscall.E2BIG: 125} {
		if got := ExitCode(AtStep("exec", OpError("execve", "/x", errno))); got != code {
			t.Errorf("exec %v: exit %d, want %d", errno, got, code)
		}
	}
	if ExitCode(AtStep("cwd", OpError("chdir", "/x", syscall.ENOENT))) != 125 {
		t.Error("a failed step other than exec must exit 125")
	}
	e = AtStep("verify", errors.New("uids are 1/1/1, want 0"))
	if e.Error() != `step "verify": uids are 1/1/1, want 0` {
		t.Errorf("%q", e)
	}
}
