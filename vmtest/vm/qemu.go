package vm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// The lines that guestinit prints on the console.
const (
	MarkerBoot = "daemonbox-vmtest: booted"
	MarkerExit = "daemonbox-vmtest: exit "
)

// cmdline is the guest kernel's: the serial console, quiet, no reboot on
// panic (QEMU's -no-reboot then ends), and Landlock among the LSMs, which
// a kernel may build in without enabling.
const cmdline = "console=ttyS0 quiet loglevel=3 panic=-1 lsm=landlock,lockdown,yama rdinit=/init"

// Machine is a QEMU guest to boot.
type Machine struct {
	QEMU, Kernel, Initrd string
	MemoryMiB, CPUs      int
}

// Accel is "kvm" when /dev/kvm can be opened, else "tcg" (emulation).
func Accel() string {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return "tcg"
	}
	f.Close()
	return "kvm"
}

// Args are QEMU's arguments: no devices but the serial console on stdio.
func (m Machine) Args(accel string) []string {
	cpu := "max"
	if accel == "kvm" {
		cpu = "host"
	}
	return []string{
		"-accel", accel, "-cpu", cpu, "-m", strconv.Itoa(m.MemoryMiB), "-smp", strconv.Itoa(m.CPUs),
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-serial", "stdio", "-kernel", m.Kernel, "-initrd", m.Initrd, "-append", cmdline,
	}
}

// Result is how a guest run ended.
type Result struct {
	Status        int           // the test binary's exit status; -1 if none came
	Boot, Run     time.Duration // QEMU's start to the boot marker; to the end marker
	Accel         string
	SawBootMarker bool
	Panicked      bool // the guest's kernel said "Kernel panic"
}

// kernelPanic is what a guest kernel that gives up prints on the console.
const kernelPanic = "Kernel panic - not syncing"

// Run boots the machine, copies its console to out line by line, and
// returns once QEMU has exited or ctx has ended (then QEMU is killed).
func (m Machine) Run(ctx context.Context, out io.Writer) (Result, error) {
	res := Result{Status: -1, Accel: Accel()}
	cmd := exec.CommandContext(ctx, m.QEMU, m.Args(res.Accel)...)
	cmd.Stderr = out
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return res, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("start %s: %w", m.QEMU, err)
	}
	readConsole(stdout, out, start, &res)
	err = cmd.Wait()
	if ctx.Err() != nil {
		return res, fmt.Errorf("the VM did not power off within the bound (%w); boot marker seen: %v", ctx.Err(), res.SawBootMarker)
	}
	if err != nil {
		return res, fmt.Errorf("%s: %w", m.QEMU, err)
	}
	if res.Status < 0 {
		return res, errors.New("the VM powered off without the end marker: see the console above")
	}
	return res, nil
}

// readConsole copies the console to out, without the serial line's
// carriage returns, and notes the markers' times and the exit status.
func readConsole(r io.Reader, out io.Writer, start time.Time, res *Result) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		fmt.Fprintln(out, line)
		parseLine(line, time.Since(start), res)
	}
	io.Copy(io.Discard, r)
}

// parseLine notes a marker line's time, and the exit status it carries.
func parseLine(line string, at time.Duration, res *Result) {
	switch {
	case strings.Contains(line, kernelPanic):
		res.Panicked = true
	case strings.HasPrefix(line, MarkerBoot):
		res.Boot, res.SawBootMarker = at, true
	case strings.HasPrefix(line, MarkerExit):
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, MarkerExit)))
		if err == nil {
			res.Status, res.Run = n, at-res.Boot
		}
	}
}
