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
//
// With -ratios, the table is of ratios instead: each command's time divided
// by the first command's in the same round, then the median of those
// per-round ratios and their 25th and 75th percentiles (the spread). Each
// -label names the next command's row in place of its command line.
//
// A command may start with NAME=VALUE words, as with env(1): they are added
// to that command's environment, without running env's own image.
//
//	launchtime -ratios -label bwrap -label crun -- bwrap ... -- crun ...
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
	env  []string // NAME=VALUE added to launchtime's environment
	argv []string
}

func main() {
	runs := flag.Int("n", 300, "rounds")
	warmup := flag.Int("warmup", 20, "unmeasured rounds first")
	copies := flag.Int("copies", 1, "copies of each command's executable, all run every round")
	ratios := flag.Bool("ratios", false, "report the median per-round ratio to the first command and its p25-p75")
	var labels labelList
	flag.Var(&labels, "label", "the next command's row name (repeat, in command order)")
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
			d, err := once(r.env, r.argv)
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
	if *ratios {
		reportRatios(names(cmds, labels), times)
		return
	}
	report(cmds, times)
}

// labelList collects repeated -label flags.
type labelList []string

func (l *labelList) String() string     { return strings.Join(*l, ",") }
func (l *labelList) Set(s string) error { *l = append(*l, s); return nil }

// names gives each command its label, or its command line when it has none.
func names(cmds [][]string, labels []string) []string {
	out := make([]string, len(cmds))
	for i, argv := range cmds {
		out[i] = strings.Join(argv, " ")
		if i < len(labels) {
			out[i] = labels[i]
		}
	}
	return out
}

// reportRatios prints, per command, its median time and the median and
// interquartile range of its per-round ratio to the first command: a ratio
// taken within a round cancels the machine's slow drift, and the spread
// says how far one can trust the median.
func reportRatios(names []string, times [][]time.Duration) {
	width := 7
	for _, n := range names {
		width = max(width, len(n))
	}
	fmt.Printf("%-*s %10s %10s %14s\n", width, "command", "median", "ratio", "ratio p25-p75")
	for i, n := range names {
		r := make([]float64, len(times[i]))
		for k, d := range times[i] {
			r[k] = float64(d) / float64(times[0][k])
		}
		slices.Sort(r)
		q := func(p int) float64 { return r[(len(r)-1)*p/100] }
		fmt.Printf("%-*s %10s %9.2fx %6.2f-%.2fx\n", width, n, round(median(times[i])), q(50), q(25), q(75))
	}
}

// prepare copies each command's executable into dir, copies times, so that
// every copy's pages enter the page cache anew. With one copy the commands
// run as given.
func prepare(cmds [][]string, copies int, dir string) ([]run, error) {
	var all []run
	for i, words := range cmds {
		env, argv := splitEnv(words)
		if len(argv) == 0 {
			return nil, fmt.Errorf("%s: no command after the variables", strings.Join(words, " "))
		}
		if copies == 1 {
			all = append(all, run{i, env, argv})
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
			all = append(all, run{i, env, append([]string{dst}, argv[1:]...)})
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
func once(env, argv []string) (time.Duration, error) {
	errs, err := os.CreateTemp("", "launchtime-stderr-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(errs.Name())
	defer errs.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = errs
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	start := time.Now()
	err = cmd.Run()
	d := time.Since(start)
	if err != nil {
		b, _ := os.ReadFile(errs.Name())
		err = fmt.Errorf("%v: %s", err, strings.TrimSpace(string(b)))
	}
	return d, err
}

// splitEnv separates a command's leading NAME=VALUE words from its argv.
func splitEnv(words []string) (env, argv []string) {
	i := 0
	for i < len(words) && isAssignment(words[i]) {
		i++
	}
	return words[:i], words[i:]
}

// isAssignment reports whether w is NAME=VALUE with NAME a shell identifier.
func isAssignment(w string) bool {
	name, _, ok := strings.Cut(w, "=")
	if !ok || name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, c := range name {
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
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
