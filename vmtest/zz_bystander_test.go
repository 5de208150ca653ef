package vmtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The suite must mind its own business (issue 21, item 6): on a machine
// where other daemonbox services run, it counts, signals and stops only
// what it started. The bystander stands for such a service. It runs from
// its own copy of daemonbox, as an installed one would, under a plain name
// outside the suite's conventions ("web-PID", its pidfile in /run/daemonbox),
// from before the first test to after the last, and must come through
// untouched: the same pid, never signalled, still running.
type bystander struct {
	bin, dir, file, log, pidfile string
	pid, supervisor              int
}

// bystanderName is a plain name, as an operator would give a service, with
// this suite's pid: two suites that run at once (or an operator's own "web")
// must not share a pidfile.
var bystanderName = "web-" + strconv.Itoa(os.Getpid())

var theBystander *bystander

// startBystander starts the bystander, or says why it could not.
func startBystander() (*bystander, error) {
	dir, err := os.MkdirTemp("/var/lib", "daemonbox-bystander-")
	if err != nil {
		return nil, err
	}
	os.Chmod(dir, 0o755)
	b := &bystander{bin: filepath.Join(dir, "daemonbox"), dir: dir, file: filepath.Join(dir, "web.toml"),
		log: filepath.Join(dir, "web.log"), pidfile: "/run/daemonbox/" + bystanderName + ".pid"}
	if err := copyBinary(daemonbox, b.bin); err != nil {
		return nil, err
	}
	spec := fmt.Sprintf("name = %q\n[process]\ncommand = [%q, \"wait\"]\n[user]\nuser = \"nobody\"\n[fds]\nstdout = %q\nstderr = %q\n",
		bystanderName, probe, b.log, b.log)
	if err := os.WriteFile(b.file, []byte(spec), 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.Command(b.bin, "start", b.file).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %v: %s (is a service named %q running here?)", b.file, err, out, bystanderName)
	}
	if b.pid, err = readPid(b.pidfile); err == nil {
		b.supervisor, err = parentOf(b.pid)
	}
	if err != nil {
		b.stop()
		return nil, err
	}
	return b, nil
}

// untouched says how the bystander was disturbed, if it was.
func (b *bystander) untouched() error {
	pid, err := readPid(b.pidfile)
	switch {
	case err != nil:
		return fmt.Errorf("its pidfile: %v", err)
	case pid != b.pid:
		return fmt.Errorf("its pid changed from %d to %d: it was stopped or restarted", b.pid, pid)
	case syscall.Kill(b.pid, 0) != nil || syscall.Kill(b.supervisor, 0) != nil:
		return fmt.Errorf("it (pid %d) or its supervisor (pid %d) is gone", b.pid, b.supervisor)
	}
	if log, _ := os.ReadFile(b.log); strings.Contains(string(log), "signal ") {
		return fmt.Errorf("it was signalled:\n%s", log)
	}
	return nil
}

// stop stops the bystander with its own daemonbox, and removes its files.
func (b *bystander) stop() error {
	out, err := exec.Command(b.bin, "stop", b.file).CombinedOutput()
	os.RemoveAll(b.dir)
	if err != nil {
		return fmt.Errorf("stop: %v: %s", err, out)
	}
	return nil
}

// TestBystanderUntouched runs last (its file sorts last):
// every test before it ran beside the bystander. TestMain checks it again
// after the last test, in case -run left this one out.
func TestBystanderUntouched(t *testing.T) {
	need(t)
	if theBystander == nil {
		skipOrFail(t, "no bystander service ran: "+bystanderSkip)
		return
	}
	if err := theBystander.untouched(); err != nil {
		t.Errorf("the unrelated service %q: %v", bystanderName, err)
	}
}

var bystanderSkip string

func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func parentOf(pid int) (int, error) {
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "PPid:\t"); ok {
			return strconv.Atoi(v)
		}
	}
	return 0, errors.New("no PPid in /proc/PID/status")
}

func copyBinary(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}
