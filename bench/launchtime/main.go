// Command launchtime measures the whole-process wall time of commands (fork,
// exec, run, reap), interleaving them round by round so that drift in the
// machine's load touches each alike, and prints medians. The cpu column is
// the median CPU time (user + system, every thread) the process used: less
// noisy than wall time on a shared machine, so better for telling two
// builds apart.
//
//	launchtime -n 400 -- /bin/true -- ./execonly /bin/true -- ./daemonbox run true.toml
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

func main() {
	runs := flag.Int("n", 300, "runs of each command")
	warmup := flag.Int("warmup", 20, "unmeasured runs of each command first")
	flag.Parse()
	cmds := split(flag.Args())
	if len(cmds) == 0 {
		fmt.Fprintln(os.Stderr, "usage: launchtime [-n N] -- CMD ARGS... [-- CMD ARGS...]")
		os.Exit(2)
	}
	times := make([][]time.Duration, len(cmds))
	cpus := make([][]time.Duration, len(cmds))
	for round := 0; round < *warmup+*runs; round++ {
		for i, argv := range cmds {
			d, cpu, err := once(argv)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", strings.Join(argv, " "), err)
				os.Exit(1)
			}
			if round >= *warmup {
				times[i] = append(times[i], d)
				cpus[i] = append(cpus[i], cpu)
			}
		}
	}
	base := median(times[0])
	fmt.Printf("%-60s %10s %10s %10s %8s %10s\n", "command", "median", "p10", "p90", "ratio", "cpu")
	for i, argv := range cmds {
		t := times[i]
		slices.Sort(t)
		fmt.Printf("%-60s %10s %10s %10s %7.2fx %10s\n", strings.Join(argv, " "), round(median(t)),
			round(t[len(t)/10]), round(t[len(t)*9/10]), float64(median(t))/float64(base), round(median(cpus[i])))
	}
}

// once runs argv once. Its stderr goes to a file, which costs the run
// nothing (no copying goroutine) and is shown if the command fails.
func once(argv []string) (wall, cpu time.Duration, err error) {
	errs, err := os.CreateTemp("", "launchtime-stderr-")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(errs.Name())
	defer errs.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = errs
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start)
	if err != nil {
		b, _ := os.ReadFile(errs.Name())
		return 0, 0, fmt.Errorf("%v: %s", err, strings.TrimSpace(string(b)))
	}
	return wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

func split(args []string) [][]string {
	var out [][]string
	var cur []string
	for _, a := range args {
		if a == "--" {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, a)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func median(t []time.Duration) time.Duration {
	s := slices.Clone(t)
	slices.Sort(s)
	return s[len(s)/2]
}

func round(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
