// Command lifecycle measures daemonbox's lifecycle commands on a daemon that
// ends at once on SIGTERM: how long `start` takes to return (ready = "exec"),
// how long `stop` takes to return after the daemon has exited, and the
// supervisor's resident memory while the daemon runs. Run as root:
//
//	go build -o /tmp/daemonbox ./cmd/daemonbox
//	go run ./bench/lifecycle -daemonbox /tmp/daemonbox -n 200
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

const spec = `name = "bench"
[process]
command = ["/bin/sleep", "1000"]
[user]
user = "nobody"
[daemon]
pidfile = %q
`

func main() {
	bin := flag.String("daemonbox", "./daemonbox", "the daemonbox binary")
	runs := flag.Int("n", 200, "start/stop cycles")
	flag.Parse()
	dir, err := os.MkdirTemp("/run", "daemonbox-bench-")
	check(err)
	defer os.RemoveAll(dir)
	check(os.Chmod(dir, 0o755))
	pidfile := filepath.Join(dir, "bench.pid")
	file := filepath.Join(dir, "bench.toml")
	check(os.WriteFile(file, []byte(fmt.Sprintf(spec, pidfile)), 0o644))

	var starts, stops, afterExit []time.Duration
	var rss []int
	for range *runs {
		t0 := time.Now()
		run(*bin, "start", file)
		starts = append(starts, time.Since(t0))
		pid := readPid(pidfile)
		rss = append(rss, supervisorRSS(pid))
		pidfd, err := unix.PidfdOpen(pid, 0)
		check(err)
		exitedAt := make(chan time.Time, 1)
		go func() {
			unix.Poll([]unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}, -1)
			exitedAt <- time.Now()
		}()
		t1 := time.Now()
		run(*bin, "stop", file)
		t2 := time.Now()
		stops = append(stops, t2.Sub(t1))
		afterExit = append(afterExit, t2.Sub(<-exitedAt))
		unix.Close(pidfd)
	}
	fmt.Printf("start (ready = exec), to return:   median %v\n", median(starts))
	fmt.Printf("stop, whole command:               median %v\n", median(stops))
	fmt.Printf("stop, returned after daemon exit:  median %v\n", median(afterExit))
	slices.Sort(rss)
	fmt.Printf("supervisor RSS while running:      median %d KiB\n", rss[len(rss)/2])
}

func run(bin string, args ...string) {
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "daemonbox %v: %v\n%s", args, err, out)
		os.Exit(1)
	}
}

func readPid(path string) int {
	b, err := os.ReadFile(path)
	check(err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	check(err)
	return pid
}

// supervisorRSS reads VmRSS of the daemon's parent, its supervisor.
func supervisorRSS(pid int) int {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	check(err)
	var ppid int
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "PPid:\t"); ok {
			ppid, _ = strconv.Atoi(v)
		}
	}
	status, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", ppid))
	check(err)
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb
		}
	}
	return 0
}

func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
