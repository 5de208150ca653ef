package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// The completion protocol: a shell's script runs `daemonbox __complete
// WORD...`, the words after "daemonbox" up to the one under the cursor
// ("" after a space). daemonbox prints one candidate a line, each with
// "\t" and a description if it has one, then ":N", where N's bits tell the
// script what to do with them (directive). It is the protocol spf13/cobra's
// scripts speak, which daemonbox used before; the scripts are daemonbox's.
const (
	completeCmd       = "__complete"
	completeNoDescCmd = "__completeNoDesc" // the same, without descriptions
)

// A directive tells the script what to do besides offering the candidates.
type directive int

const (
	offerFiles   directive = 0  // candidates, or else any file
	noFiles      directive = 4  // the candidates alone
	filesWithExt directive = 8  // the candidates are extensions: files with them, and directories
	dirsOnly     directive = 16 // directories
)

// complete prints what completion offers for the command line words.
func complete(words []string, desc bool, out io.Writer) int {
	if len(words) == 0 {
		words = []string{""}
	}
	cands, d := offer(words[:len(words)-1], words[len(words)-1])
	var b strings.Builder
	for _, c := range cands {
		if !desc {
			c, _, _ = strings.Cut(c, "\t")
		}
		b.WriteString(c + "\n")
	}
	fmt.Fprintf(&b, ":%d\n", d)
	io.WriteString(out, b.String())
	return 0
}

// offer is what completes cur after the words before it.
func offer(before []string, cur string) ([]string, directive) {
	if len(before) == 0 {
		if strings.HasPrefix(cur, "-") {
			return withPrefix([]string{"--help\tprint the usage", "--version\tprint daemonbox's version"}, cur), noFiles
		}
		var names []string
		for _, c := range commands {
			names = append(names, c.name+"\t"+c.summary)
		}
		return withPrefix(names, cur), noFiles
	}
	t, ok := findCommand(before[0])
	if !ok {
		return nil, noFiles
	}
	operands, pending, dash, seen := readLine(t, before[1:])
	switch {
	case pending != nil:
		return completeValue(pending.value, cur)
	case !dash && strings.HasPrefix(cur, "--") && strings.Contains(cur, "="):
		// The value alone: the scripts complete the word after "=" (bash
		// splits it there; zsh and fish are told the prefix).
		name, value, _ := strings.Cut(strings.TrimPrefix(cur, "--"), "=")
		if f := findFlag(t, name); f != nil && f.value != "" {
			return completeValue(f.value, value)
		}
		return nil, noFiles
	case !dash && strings.HasPrefix(cur, "-"):
		return withPrefix(flagCandidates(t, seen), cur), noFiles
	}
	return completeOperand(t, operands, dash, cur)
}

// readLine walks a command's words: how many operands came, whether the
// last word is a flag still waiting for its value, whether -- came, and
// the flags given.
func readLine(t *command, words []string) (operands int, pending *flagDoc, dash bool, seen []string) {
	for _, w := range words {
		switch {
		case pending != nil:
			pending = nil
		case dash || !strings.HasPrefix(w, "-") || w == "-":
			operands++
		case w == "--":
			dash = true
		case strings.HasPrefix(w, "--"):
			name, _, hasValue := strings.Cut(strings.TrimPrefix(w, "--"), "=")
			seen = append(seen, name)
			if f := findFlag(t, name); f != nil && f.value != "" && !hasValue {
				pending = f
			}
		}
	}
	return operands, pending, dash, seen
}

// completeOperand offers spec files (*.toml, and directories to reach
// them), a command's words, or command names after help.
func completeOperand(t *command, operands int, dash bool, cur string) ([]string, directive) {
	switch {
	case t.name == "spec":
		return nil, offerFiles // the daemon's command line
	case operands > 0 || t.none:
		return nil, noFiles
	case t.spec:
		return []string{"toml"}, filesWithExt
	case t.name == "help":
		return withPrefix(commandNames(), cur), noFiles
	}
	return withPrefix(t.words, cur), noFiles
}

// completeValue offers a flag's value from its placeholder: one of "a|b",
// a FILE.ext, a DIR, or nothing to offer.
func completeValue(value, cur string) ([]string, directive) {
	switch {
	case strings.Contains(value, "|"):
		return withPrefix(strings.Split(value, "|"), cur), noFiles
	case strings.HasPrefix(value, "FILE."):
		return []string{strings.TrimPrefix(value, "FILE.")}, filesWithExt
	case value == "DIR":
		return nil, dirsOnly
	}
	return nil, noFiles
}

// flagCandidates are the flags of t not given yet, and --help.
func flagCandidates(t *command, seen []string) []string {
	out := []string{"--help\tprint this command's help"}
	for _, f := range t.flags {
		if !slices.Contains(seen, f.name) {
			out = append(out, "--"+f.name+"\t"+f.help)
		}
	}
	return out
}

func findFlag(t *command, name string) *flagDoc {
	for i := range t.flags {
		if t.flags[i].name == name {
			return &t.flags[i]
		}
	}
	return nil
}

// withPrefix keeps the candidates that start with cur.
func withPrefix(cands []string, cur string) []string {
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, cur) {
			out = append(out, c)
		}
	}
	return out
}
