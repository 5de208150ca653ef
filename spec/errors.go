package spec

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"unicode/utf8"
)

// Error is one problem in a spec file, located by line and column.
// It renders as "web.toml:14:9: capabilities.keep: unknown capability ...".
type Error struct {
	File string
	Line int // 0 when the problem has no single place (a missing key)
	Col  int
	Path string // the key path, e.g. "rlimits.nofile.soft"; empty for file-level problems
	Msg  string
	// ExecErrno is the errno the daemon's exec would meet, for a problem
	// found ahead of it (a command missing or not executable), so that a
	// launch refused for it exits as exec's failure would: 127 or 126.
	ExecErrno syscall.Errno
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(clipTo(e.Path, maxShown))
		b.WriteString(": ")
	}
	b.WriteString(clipTo(e.Msg, 4*maxShown))
	return b.String()
}

// maxShown bounds a key path or name quoted in a message: a key or a value
// may be nearly as long as the file. A whole message is held to four times
// as much, which no message of daemonbox's own words reaches.
const maxShown = 128

func clip(s string) string { return clipTo(s, maxShown) }

// clipTo shortens s to n bytes, on a rune boundary, marking the cut.
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// Errors is every problem found in one file. Load returns it as its error.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// first keeps the first n problems and, in place of the rest, one line that
// says how many there were, located at the first one left out.
func (es Errors) first(n int) Errors {
	if len(es) <= n {
		return es
	}
	more := *es[n]
	more.Path = ""
	more.Msg = fmt.Sprintf("and %d more problems", len(es)-n)
	return append(es[:n:n], &more)
}

// Unwrap lets errors.As find each *Error.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// List flattens err into its spec problems, one per line; any other error is
// returned as it is.
func List(err error) []error {
	var es Errors
	if errors.As(err, &es) {
		return es.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// suggest returns the candidate closest to word, if it is close enough to be
// a plausible misspelling: fewer edits than a third of the word plus two,
// and no more than half of it, so that a short word is not "corrected" into
// an unrelated one.
func suggest(word string, candidates []string) string {
	best, bestDist := "", len(word)/3+2
	for _, c := range candidates {
		d := editDistance(strings.ToLower(word), strings.ToLower(c))
		if d < bestDist && 2*d <= len(word) {
			best, bestDist = c, d
		}
	}
	return best
}

// suggestPrefixed is suggest for names that share a prefix (CAP_, SIG),
// which is compared apart: the word may lack it ("net_admn"), and it must not
// make an unrelated name look close ("CAP_FOO" is not "CAP_BPF").
func suggestPrefixed(word, prefix string, candidates []string) string {
	bare := strings.TrimPrefix(strings.ToUpper(word), prefix)
	stripped := make([]string, len(candidates))
	for i, c := range candidates {
		stripped[i] = strings.TrimPrefix(c, prefix)
	}
	if s := suggest(bare, stripped); s != "" {
		return prefix + s
	}
	return ""
}

func didYouMean(word string, candidates []string) string {
	if s := suggest(word, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

func didYouMeanPrefixed(word, prefix string, candidates []string) string {
	if s := suggestPrefixed(word, prefix, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}

// editDistance is the Levenshtein distance, with a transposition costing one.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// DidYouMean is " (did you mean "X"?)" for the candidate closest to word, or
// "" when none is close enough; the command line uses it for its commands.
func DidYouMean(word string, candidates []string) string {
	return didYouMean(word, candidates)
}
