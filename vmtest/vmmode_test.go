package vmtest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/daemonbox/daemonbox/vmtest/vm"
)

// The suite's modes: as root it runs here, directly; without root, or
// with -vm, it runs in a QEMU guest booted for it (vmtest/vm), which runs
// this same package's tests as root on a pure cgroup v2 hierarchy; without
// root and without QEMU and a guest kernel, every test skips (fails in
// strict mode) naming the setup command.
var vmFlag = flag.Bool("vm", false, "run the kernel tests in a QEMU guest (vmtest/vm), also as root")

// forwarded are the test flags that the guest's test binary gets as given.
var forwarded = map[string]bool{
	"test.run": true, "test.skip": true, "test.count": true, "test.failfast": true,
	"test.short": true, "test.parallel": true, "test.shuffle": true,
}

// vmMode runs the suite in the guest when that is the mode, and says
// whether it did; without root and without a VM it sets skipReason.
func vmMode() (int, bool) {
	flag.Parse()
	if os.Geteuid() == 0 && !*vmFlag {
		return 0, false
	}
	if _, _, err := vm.Available(); err != nil {
		if *vmFlag {
			fmt.Fprintln(os.Stderr, "vmtest -vm:", err)
			return 1, true
		}
		skipReason = fmt.Sprintf("vmtest needs root (`sudo go test ./vmtest`) or a VM (%v; then `go test ./vmtest` runs it there)", err)
		return 0, false
	}
	return runInVM(), true
}

// runInVM runs the suite in the guest, its output as the tests' own, and
// returns the guest's exit status.
func runInVM() int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	host, guest := vmBounds()
	s := vm.Suite{PkgDir: wd, Args: guestArgs(guest), Timeout: guest, Out: os.Stdout}
	if strict {
		s.Env = []string{"DAEMONBOX_VMTEST_STRICT=1"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), host)
	defer cancel()
	res, err := s.Run(ctx)
	if err != nil {
		fmt.Println("daemonbox-vmtest:", err)
		fmt.Println("FAIL")
		return 1
	}
	return res.Status
}

// vmBounds are the bound of the whole VM run (within the test binary's
// -test.timeout, which go test gives it) and the guest's test run's
// (less the build and the boot).
func vmBounds() (host, guest time.Duration) {
	host = 60 * time.Minute
	if f := flag.Lookup("test.timeout"); f != nil {
		if d, err := time.ParseDuration(f.Value.String()); err == nil && d > 0 {
			host = d - 10*time.Second
		}
	}
	guest = host - 2*time.Minute
	if guest < time.Minute {
		guest = time.Minute
	}
	return host, guest
}

// guestArgs are the guest test binary's flags: verbose (in test2json's
// framing when go test -json asked for it), the forwarded flags that were
// set, and a timeout inside the guest's bound, so that a hung test's
// goroutines are dumped before the bound kills it.
func guestArgs(bound time.Duration) []string {
	v := "true"
	if f := flag.Lookup("test.v"); f != nil && f.Value.String() == "test2json" {
		v = "test2json"
	}
	args := []string{"-test.v=" + v, "-test.timeout=" + (bound - 15*time.Second).String()}
	flag.Visit(func(f *flag.Flag) {
		if forwarded[f.Name] {
			args = append(args, "-"+f.Name+"="+f.Value.String())
		}
	})
	return args
}
