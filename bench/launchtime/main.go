// Command launchtime measures the whole-process wall time of commands (fork,
// exec, run, reap), interleaving them round by round, in a new random order
// each round, so that drift in the machine's load and the wake of the
// previous command touch each alike, and prints medians. The last column is
// the median, over rounds, of each command's time minus the first command's
// in the same round: a paired difference, which slow drift cancels out of.
//
//	launchtime -n 400 -- /bin/true -- ./execonly /bin/true -- ./daemonbox run true.toml
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
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
	order := make([]int, len(cmds))
	for i := range order {
		order[i] = i
	}
	for round := 0; round < *warmup+*runs; round++ {
		// A command runs faster or slower depending on what ran just
		// before it (by 0.2-0.3 ms here: two copies of one binary differed
		// that much in fixed order), so each round takes a new order.
		rand.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, i := range order {
			argv := cmds[i]
			d, err := once(argv)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", strings.Join(argv, " "), err)
				os.Exit(1)
			}
			if round >= *warmup {
				times[i] = append(times[i], d)
			}
		}
	}
	base := median(times[0])
	fmt.Printf("%-60s %10s %10s %10s %8s %10s\n", "command", "median", "p10", "p90", "ratio", "paired")
	for i, argv := range cmds {
		diff := make([]time.Duration, len(times[i]))
		for r, d := range times[i] {
			diff[r] = d - times[0][r]
		}
		t := slices.Sorted(slices.Values(times[i]))
		fmt.Printf("%-60s %10s %10s %10s %7.2fx %10s\n", strings.Join(argv, " "), round(median(t)),
			round(t[len(t)/10]), round(t[len(t)*9/10]), float64(median(t))/float64(base), round(median(diff)))
	}
}

// once runs argv once. Its stderr goes to a file, which costs the run
// nothing (no copying goroutine) and is shown if the command fails.
func once(argv []string) (time.Duration, error) {
	errs, err := os.CreateTemp("", "launchtime-stderr-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(errs.Name())
	defer errs.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = errs
	start := time.Now()
	err = cmd.Run()
	d := time.Since(start)
	if err != nil {
		b, _ := os.ReadFile(errs.Name())
		err = fmt.Errorf("%v: %s", err, strings.TrimSpace(string(b)))
	}
	return d, err
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
