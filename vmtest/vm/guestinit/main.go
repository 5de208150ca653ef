// Command guestinit is the init (pid 1) of vmtest's QEMU guest: it mounts
// what a Debian host has (proc, sys, devtmpfs, a pure cgroup v2 hierarchy
// with memory, pids, cpu and io enabled, tmpfs /tmp and /run), checks that
// the kernel has what the kernel tests need, runs the test binary that
// /etc/daemonbox-vmtest/run names, prints the end marker with its exit
// status on the console, and powers the machine off. It is a static Go
// program rather than a shell script so that each step fails with the
// call, path and errno, and the run is bounded without a shell's help.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// The markers the host reads on the console (vmtest/vm.Marker*).
const (
	bootMarker = "daemonbox-vmtest: booted"
	exitMarker = "daemonbox-vmtest: exit "
)

func main() {
	status := run()
	fmt.Printf("\n%s%d\n", exitMarker, status)
	syscall.Sync()
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {} // pid 1 must not exit: the kernel would panic
}

func run() int {
	if err := setup(); err != nil {
		fmt.Println("daemonbox-vmtest: setup:", err)
		return 125
	}
	if missing := checkKernel(); len(missing) > 0 {
		for _, m := range missing {
			fmt.Println("daemonbox-vmtest: the guest kernel lacks", m)
		}
		return 125
	}
	cfg, err := readConfig("/etc/daemonbox-vmtest/run")
	if err != nil {
		fmt.Println("daemonbox-vmtest:", err)
		return 125
	}
	fmt.Printf("%s in %s (kernel uptime)\n", bootMarker, uptime())
	return cfg.runTests()
}

// uptime is the kernel's /proc/uptime, the time since the kernel started.
func uptime() string {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return "?"
	}
	return f[0] + "s"
}

// config is what the host asks the guest to run.
type config struct {
	dir     string
	args    []string
	env     []string
	timeout time.Duration
}

// readConfig reads lines of "dir PATH", "timeout DURATION", "env K=V" and
// "arg VALUE", in order.
func readConfig(path string) (*config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cfg := &config{dir: "/", timeout: 30 * time.Minute}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, _ := strings.Cut(sc.Text(), " ")
		switch key {
		case "dir":
			cfg.dir = val
		case "timeout":
			if cfg.timeout, err = time.ParseDuration(val); err != nil {
				return nil, fmt.Errorf("%s: timeout: %w", path, err)
			}
		case "env":
			cfg.env = append(cfg.env, val)
		case "arg":
			cfg.args = append(cfg.args, val)
		}
	}
	if len(cfg.args) == 0 {
		return nil, fmt.Errorf("%s: no arg lines: nothing to run", path)
	}
	return cfg, sc.Err()
}

// runTests runs the test binary within the bound, its output on the
// console, and returns its exit status (124 when the bound ended it).
func (cfg *config) runTests() int {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, cfg.args[0], cfg.args[1:]...)
	cmd.Dir, cmd.Env = cfg.dir, cfg.env
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stdout
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		fmt.Println("daemonbox-vmtest: run the tests:", err)
		return 125
	}
	stop := make(chan struct{})
	go reapOrphans(cmd.Process.Pid, stop)
	err := cmd.Wait()
	close(stop)
	if ctx.Err() != nil {
		fmt.Printf("daemonbox-vmtest: the tests did not finish within %s\n", cfg.timeout)
		return 124
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode()
	case err != nil:
		fmt.Println("daemonbox-vmtest: run the tests:", err)
		return 125
	}
	return 0
}
