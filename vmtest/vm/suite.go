package vm

import (
	"bufio"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// SetupCommand installs what the VM mode needs; README names it.
const SetupCommand = "vmtest/vm/setup.sh"

// KernelPath is the guest's kernel: $DAEMONBOX_VMTEST_KERNEL, else the
// one SetupCommand extracts from Debian's linux-image-amd64 into the
// user's cache directory.
func KernelPath() string {
	if k := os.Getenv("DAEMONBOX_VMTEST_KERNEL"); k != "" {
		return k
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = "/nonexistent"
	}
	return filepath.Join(dir, "daemonbox-vmtest", "vmlinuz")
}

// Available returns QEMU's and the kernel's paths, or why the VM mode
// cannot run here.
func Available() (qemu, kernel string, err error) {
	qemu, err = exec.LookPath("qemu-system-x86_64")
	if err != nil {
		return "", "", fmt.Errorf("no qemu-system-x86_64 (%v): run %s", err, SetupCommand)
	}
	kernel = KernelPath()
	if _, err := os.Stat(kernel); err != nil {
		return "", "", fmt.Errorf("no guest kernel (%v): run %s, or set DAEMONBOX_VMTEST_KERNEL", err, SetupCommand)
	}
	return qemu, kernel, nil
}

// Suite is one run of vmtest's tests in a guest.
type Suite struct {
	PkgDir  string   // vmtest's directory
	Args    []string // the test binary's flags (-test.v, -test.run, ...)
	Env     []string // for the test binary, beside PATH and HOME
	Timeout time.Duration
	Out     io.Writer
}

// Run builds the test binary, daemonbox, the probe and the guest's init,
// packs them in an initramfs, boots it, and returns how it ended.
func (s Suite) Run(ctx context.Context) (Result, error) {
	qemu, kernel, err := Available()
	if err != nil {
		return Result{Status: -1}, err
	}
	work, err := os.MkdirTemp("", "daemonbox-vmtest-vm-")
	if err != nil {
		return Result{Status: -1}, err
	}
	defer os.RemoveAll(work)
	start := time.Now()
	g, err := s.build(work)
	if err != nil {
		return Result{Status: -1}, err
	}
	initrd := filepath.Join(work, "initrd.cpio")
	if err := writeImage(g, initrd); err != nil {
		return Result{Status: -1}, err
	}
	fi, _ := os.Stat(initrd)
	fmt.Fprintf(s.Out, "daemonbox-vmtest: built and packed in %s (initramfs %d MiB)\n",
		time.Since(start).Round(100*time.Millisecond), fi.Size()>>20)
	m := Machine{QEMU: qemu, Kernel: kernel, Initrd: initrd, MemoryMiB: 2048, CPUs: 2}
	res, err := bootTries(ctx, s.Out, func() (Result, error) { return m.Run(ctx, s.Out) })
	fmt.Fprintf(s.Out, "daemonbox-vmtest: %s: boot %s, tests %s, status %d\n", res.Accel,
		res.Boot.Round(100*time.Millisecond), res.Run.Round(100*time.Millisecond), res.Status)
	return res, err
}

// boots is how many times a guest is booted at most. Under TCG, Debian's
// kernel now and then dies on its own: it oopses on int3 in sched_clock_cpu
// while it boots (twice in some ten boots here), and once it panicked in
// the scheduler's idle path seconds into the tests, with its RIP in the
// middle of an instruction: QEMU's doing, not the tests'. A guest that
// died before its init is booted again; one whose kernel panicked after
// its init ran, once more, and the whole suite is rerun. A guest whose
// tests failed, or that ended without a panic, is never booted again.
const boots = 3

// bootTries runs boot until its guest reaches its init and ends without a
// kernel panic, boots times at most and once more after a panic at most.
func bootTries(ctx context.Context, out io.Writer, boot func() (Result, error)) (Result, error) {
	reran := false
	for try := 1; ; try++ {
		res, err := boot()
		if err == nil || ctx.Err() != nil || try == boots {
			return res, err
		}
		switch {
		case !res.SawBootMarker:
			fmt.Fprintf(out, "daemonbox-vmtest: the guest's kernel died before its init ran (%v); booting again, %d of %d\n", err, try+1, boots)
		case res.Panicked && !reran:
			reran = true
			fmt.Fprintf(out, "daemonbox-vmtest: the guest's kernel panicked while the tests ran (%v), not a test; booting again to rerun the whole suite, %d of %d\n", err, try+1, boots)
		default:
			return res, err
		}
	}
}

func writeImage(g Guest, path string) error {
	im, err := g.Image()
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = im.Write(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// build makes the guest's static programs in work.
func (s Suite) build(work string) (Guest, error) {
	bins := filepath.Join(work, "bins")
	g := Guest{
		Init: filepath.Join(work, "init"), TestBinary: filepath.Join(work, "vmtest.test"), Bins: bins,
		Repo: filepath.Dir(s.PkgDir), Args: s.Args, Env: s.Env, Timeout: s.Timeout,
	}
	if err := os.Mkdir(bins, 0o755); err != nil {
		return g, err
	}
	steps := [][]string{
		{"go", "test", "-c", "-o", g.TestBinary, "."},
		{"go", "build", "-o", filepath.Join(bins, "daemonbox"), "../cmd/daemonbox"},
		{"go", "build", "-o", g.Init, "./vm/guestinit"},
		{"gcc", "-static", "-O2", "-Wall", "-o", filepath.Join(bins, "probe"), "probe/probe.c"},
	}
	for _, argv := range steps {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = s.PkgDir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return g, fmt.Errorf("build for the VM: %v: %v\n%s", argv, err, out)
		}
	}
	var err error
	g.Busybox, err = staticBusybox()
	return g, err
}

// staticBusybox is the host's busybox if it is static (busybox-static):
// the guest has no libraries for another one.
func staticBusybox() (string, error) {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		f, err := elf.Open(p)
		if err != nil {
			continue
		}
		static := true
		for _, prog := range f.Progs {
			static = static && prog.Type != elf.PT_INTERP
		}
		f.Close()
		if static {
			return p, nil
		}
	}
	return "", errors.New("the VM needs a static busybox at /bin/busybox: apt-get install busybox-static")
}
