package vm

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Guest is what the guest holds and runs: the programs built for it and
// the run that its init starts.
type Guest struct {
	Init       string // the static guestinit
	TestBinary string // the static `go test -c` binary of ./vmtest
	Bins       string // a directory with the static daemonbox and probe
	Busybox    string // a static busybox: the guest's shell and tools
	Repo       string // the repository: its examples/ are packed
	Args       []string
	Env        []string
	Timeout    time.Duration
}

// Guest paths; the tests run in testDir, so that ../examples is there.
const (
	testDir   = "/src/vmtest"
	binsDir   = "/opt/daemonbox-vmtest"
	runConfig = "/etc/daemonbox-vmtest/run"
)

// Image lays out the guest: its init, a merged /usr as the host has it,
// busybox for the shell and tools, the host's optional programs (Packed),
// the users, and the test binary with its arguments.
func (g Guest) Image() (*Image, error) {
	im := NewImage()
	im.CharDev("/dev/console", 0o600, 5, 1) // init's stdio, before devtmpfs
	for _, d := range []string{"/proc", "/sys", "/dev", "/run", "/srv", "/var/cache", "/var/lib", "/var/log", "/usr/local/lib"} {
		im.Dir(d, 0o755)
	}
	im.Dir("/tmp", 0o1777)
	im.Dir("/var/tmp", 0o1777)
	im.Dir("/root", 0o700)
	mergedUsr(im)
	steps := []func(*Image) error{g.programs, packOptional, g.busybox, g.etc, g.examples}
	for _, step := range steps {
		if err := step(im); err != nil {
			return nil, err
		}
	}
	im.Bytes(runConfig, g.runConfig(), 0o644)
	return im, nil
}

// mergedUsr gives the guest the host's top-level symlinks (/bin ->
// usr/bin on a merged /usr), so that a host path packed there is found.
func mergedUsr(im *Image) {
	for _, d := range []string{"bin", "sbin", "lib", "lib64", "lib32", "libx32"} {
		if target, err := os.Readlink("/" + d); err == nil {
			im.Symlink("/"+d, target)
		}
	}
}

func (g Guest) programs(im *Image) error {
	for guest, host := range map[string]string{
		"/init":                  g.Init,
		testDir + "/vmtest.test": g.TestBinary,
		binsDir + "/daemonbox":   filepath.Join(g.Bins, "daemonbox"),
		binsDir + "/probe":       filepath.Join(g.Bins, "probe"),
	} {
		if err := im.Copy(guest, host); err != nil {
			return err
		}
	}
	return nil
}

// busybox is /bin/busybox, and a link for each of its applets that the
// image has no program for: /bin/sh is busybox's ash.
func (g Guest) busybox(im *Image) error {
	if err := im.Copy("/bin/busybox", g.Busybox); err != nil {
		return err
	}
	out, err := exec.Command(g.Busybox, "--list-full").Output()
	if err != nil {
		return fmt.Errorf("%s --list-full: %w (a static busybox: apt-get install busybox-static)", g.Busybox, err)
	}
	for _, p := range strings.Fields(string(out)) {
		p = "/" + p
		if !im.Has(p) && !im.Has("/usr/bin/"+path.Base(p)) {
			im.Symlink(p, "/bin/busybox")
		}
	}
	return nil
}

// examples packs the repository's files that the tests read beside their
// own directory: the examples, and README.md (TestStartExitCodes checks
// its table of exit codes).
func (g Guest) examples(im *Image) error {
	if err := im.Copy(path.Join(path.Dir(testDir), "README.md"), filepath.Join(g.Repo, "README.md")); err != nil {
		return err
	}
	return im.HostTreeAt(filepath.Join(g.Repo, "examples"), path.Join(path.Dir(testDir), "examples"))
}

func (g Guest) runConfig() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "dir %s\ntimeout %s\n", testDir, g.Timeout)
	env := append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=/root", "DAEMONBOX_VMTEST_PREBUILT=" + binsDir}, g.Env...)
	for _, e := range env {
		fmt.Fprintf(&b, "env %s\n", e)
	}
	for _, a := range append([]string{testDir + "/vmtest.test"}, g.Args...) {
		fmt.Fprintf(&b, "arg %s\n", a)
	}
	return []byte(b.String())
}
