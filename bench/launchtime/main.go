// Command launchtime measures the whole-process wall time of commands (fork,
// exec, run, reap), interleaving them round by round, in a new random order
// each round, so that drift in the machine's load and the wake of the
// previous command touch each alike, and prints medians. The last column is
// the median, over rounds, of each command's time minus the first command's
// in the same round: a paired difference, which slow drift cancels out of.
//
// With -copies K, each command's executable is copied K times and every copy
// runs in every round; a command's time in a round is the mean over its
// copies. On this kind of machine two byte-identical copies of one binary can
// differ by 0.4 ms, a difference fixed when the file's pages entered the page
// cache, so one copy of each program is one draw of a lottery.
//
//	launchtime -n 400 -copies 4 -- /bin/true -- ./execonly /bin/true -- ./daemonbox run true.toml
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A run is one executable file standing for one of the commands.
type run struct {
	cmd  int
	argv []string
}

func main() {
	runs := flag.Int("n", 300, "rounds")
	warmup := flag.Int("warmup", 20, "unmeasured rounds first")
	copies := flag.Int("copies", 1, "copies of each command's executable, all run every round")
	flag.Parse()
	cmds := split(flag.Args())
	if len(cmds) == 0 || *copies < 1 {
		fmt.Fprintln(os.Stderr, "usage: launchtime [-n N] [-copies K] -- CMD ARGS... [-- CMD ARGS...]")
		os.Exit(2)
	}
	dir, err := os.MkdirTemp("", "launchtime-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	all, err := prepare(cmds, *copies, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	// times[cmd][round] holds the mean over that command's copies.
	times := make([][]time.Duration, len(cmds))
	for round := 0; round < *warmup+*runs; round++ {
		// A command runs faster or slower depending on what ran just
		// before it (by 0.2-0.3 ms here: two copies of one binary differed
		// that much in fixed order), so each round takes a new order.
		rand.Shuffle(len(all), func(a, b int) { all[a], all[b] = all[b], all[a] })
		sum := make([]time.Duration, len(cmds))
		for _, r := range all {
			d, err := once(r.argv)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", strings.Join(r.argv, " "), err)
				os.RemoveAll(dir) // os.Exit skips the deferred removal
				os.Exit(1)
			}
			sum[r.cmd] += d
		}
		if round >= *warmup {
			for i := range cmds {
				times[i] = append(times[i], sum[i]/time.Duration(*copies))
			}
		}
	}
	report(cmds, times)
}

// prepare copies each command's executable into dir, copies times, so that
// every copy's pages enter the page cache anew. With one copy the commands
// run as given.
func prepare(cmds [][]string, copies int, dir string) ([]run, error) {
	var all []run
	for i, argv := range cmds {
		if copies == 1 {
			all = append(all, run{i, argv})
			continue
		}
		path, err := exec.LookPath(argv[0])
		if err != nil {
			return nil, err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		for c := range copies {
			dst := filepath.Join(dir, fmt.Sprintf("%d.%d.%s", i, c, filepath.Base(path)))
			if err := os.WriteFile(dst, data, 0o755); err != nil {
				return nil, err
			}
			all = append(all, run{i, append([]string{dst}, argv[1:]...)})
		}
	}
	return all, nil
}

func report(cmds [][]string, times [][]time.Duration) {
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
