package vm

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReadConsole(t *testing.T) {
	console := "SeaBIOS\r\n" + MarkerBoot + " in 3.1s\r\n=== RUN   TestX\r\n--- PASS: TestX\r\n\r\n" + MarkerExit + "3\r\n[ 9.1] reboot: Power down\r\n"
	var out bytes.Buffer
	var res Result
	res.Status = -1
	readConsole(strings.NewReader(console), &out, time.Now(), &res)
	if res.Status != 3 || !res.SawBootMarker {
		t.Errorf("status %d, boot marker %v; want 3, true", res.Status, res.SawBootMarker)
	}
	if strings.Contains(out.String(), "\r") || !strings.Contains(out.String(), "--- PASS: TestX\n") {
		t.Errorf("console copied as %q", out.String())
	}
}

// A kernel panic on the console is noted, and a clean run is not.
func TestReadConsolePanic(t *testing.T) {
	console := MarkerBoot + " in 3.1s\r\n=== RUN   TestX\r\n[ 7.2] Kernel panic - not syncing: Fatal exception in interrupt\r\n"
	res := Result{Status: -1}
	readConsole(strings.NewReader(console), io.Discard, time.Now(), &res)
	if !res.Panicked || res.Status != -1 || !res.SawBootMarker {
		t.Errorf("got %+v; want a panic noted after the boot marker, and no status", res)
	}
	clean := Result{Status: -1}
	readConsole(strings.NewReader(MarkerBoot+"\n"+MarkerExit+"0\n"), io.Discard, time.Now(), &clean)
	if clean.Panicked {
		t.Errorf("a clean run read as a panic: %+v", clean)
	}
}

func TestMachineArgs(t *testing.T) {
	m := Machine{QEMU: "q", Kernel: "k", Initrd: "i", MemoryMiB: 2048, CPUs: 2}
	args := m.Args("tcg")
	for _, pair := range [][2]string{{"-accel", "tcg"}, {"-kernel", "k"}, {"-initrd", "i"}, {"-m", "2048"}, {"-serial", "stdio"}} {
		i := slices.Index(args, pair[0])
		if i < 0 || i+1 >= len(args) || args[i+1] != pair[1] {
			t.Errorf("args %q lack %s %s", args, pair[0], pair[1])
		}
	}
	if !slices.Contains(args, "-no-reboot") || !strings.Contains(strings.Join(args, " "), "lsm=landlock") {
		t.Errorf("args %q: want -no-reboot and Landlock enabled", args)
	}
	if got := m.Args("kvm"); !slices.Contains(got, "host") {
		t.Errorf("kvm args %q: want -cpu host", got)
	}
}

// A guest whose kernel dies before its init is booted again, up to boots
// times; one that reached its init, never.
func TestBootTries(t *testing.T) {
	died := errors.New("the VM powered off without the end marker")
	for _, c := range []struct {
		name    string
		results []Result
		want    int
	}{
		{"dies twice", []Result{{Status: -1}, {Status: -1}, {Status: 0, SawBootMarker: true}}, 3},
		{"dies always", []Result{{Status: -1}, {Status: -1}, {Status: -1}, {Status: -1}}, boots},
		{"tests fail", []Result{{Status: -1, SawBootMarker: true}, {Status: 0, SawBootMarker: true}}, 1},
		{"panics once while testing", []Result{{Status: -1, SawBootMarker: true, Panicked: true}, {Status: 0, SawBootMarker: true}}, 2},
		{"panics twice while testing", []Result{{Status: -1, SawBootMarker: true, Panicked: true}, {Status: -1, SawBootMarker: true, Panicked: true}, {Status: 0, SawBootMarker: true}}, 2},
	} {
		calls := 0
		res, _ := bootTries(context.Background(), io.Discard, func() (Result, error) {
			r := c.results[calls]
			calls++
			if r.Status < 0 {
				return r, died
			}
			return r, nil
		})
		if calls != c.want || res != c.results[calls-1] {
			t.Errorf("%s: booted %d times, ended with %+v; want %d", c.name, calls, res, c.want)
		}
	}
}
