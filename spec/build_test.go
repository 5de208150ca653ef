package spec

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"
)

// normalize makes build's tree and go-toml's comparable: NaN is not equal to
// itself, and go-toml's date and time types have no counterpart in build.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
	case float64:
		if math.IsNaN(x) {
			return "NaN"
		}
	case time.Time, toml.LocalDate, toml.LocalTime, toml.LocalDateTime:
		return "time"
	}
	return v
}

// differ reports how build and go-toml's decoder disagree on doc, if they do.
func differ(doc string) string {
	var ref map[string]any
	refErr := toml.Unmarshal([]byte(doc), &ref)
	got, _, err := build([]byte(doc))
	switch {
	case refErr != nil && err == nil:
		return "accepted what go-toml rejects: " + refErr.Error()
	case refErr == nil && err != nil && !strings.Contains(err.Msg, "a date or time") && !strings.Contains(err.Msg, "levels deep"):
		return "rejected what go-toml accepts: " + err.Msg
	case err != nil:
		return ""
	case refErr == nil && !reflect.DeepEqual(normalize(got), normalize(ref)):
		return "trees differ"
	}
	return ""
}

func TestBuildMatchesTOML(t *testing.T) {
	docs := []string{
		"a = 1\nb = 'x'\nc = 1.5\nd = true\nf = [1, [2, 3], {x = 1}]\n",
		"a.b.c = 1\na.b.d = 2\n",
		"[a]\nx = 1\n[a.b]\ny = 2\n",
		"[a.b.c]\nz = 1\n[a]\nq = 1\n",
		"[[arr]]\nx = 1\n[[arr]]\nx = 2\n[arr.sub]\ny = 3\n[[arr.list]]\nz = 4\n",
		"x = 0o17\ny = 0x1F\nz = 0b101\nw = 1_000\nv = +5\nu = -inf\nt = nan\ns = 1e3\n",
		"[fruit]\napple.color = 'red'\napple.taste.sweet = true\n[fruit.apple.texture]\nsmooth = true\n",
		"a = { b = { c = 1 } }\n",
		"k = []\nl = [[]]\nm = [{}, {}]\n",
		"\"quoted key\" = 1\n'lit' = 2\n",
		// invalid
		"a = 1\na = 2\n",
		"[a]\n[a]\n",
		"a.b = 1\n[a]\n",
		"[a]\nb = 1\n[a.b]\n",
		"a = {b = 1}\n[a]\n",
		"a = {b = 1}\na.c = 2\n",
		"a = [1]\n[[a]]\n",
		"[[a]]\n[a]\n",
		"[a]\n[[a]]\n",
		"a = {b = {c = 1}}\n[a.b]\n",
		"[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n",
		"[a.b]\nx = 1\n[a]\nb.y = 2\n",
		"x = 99999999999999999999\n",
		"a = [{b = 1}]\n[a.c]\n",
	}
	for _, doc := range docs {
		if d := differ(doc); d != "" {
			t.Errorf("%q: %s", doc, d)
		}
	}
}

// FuzzBuild holds build to go-toml's decoder: the same documents accepted,
// the same trees.
func FuzzBuild(f *testing.F) {
	f.Add("[a]\nb.c = 1\n[[d]]\ne = [1, {f = 2}]\n")
	f.Add("a.b = 1\n[a.c]\n")
	for _, doc := range deepShapes(maxDepth + 1) {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		if strings.ContainsRune(doc, 0) {
			return
		}
		if d := differ(doc); d != "" {
			t.Fatalf("%q: %s", doc, d)
		}
	})
}

// largeSpec is a spec just under the size limit with one key per line in one
// table: go-toml's own decoder takes over a minute on it (a duplicate check
// with a linear search per key).
func largeSpec() []byte {
	var b strings.Builder
	b.WriteString("[process]\ncommand = [\"/bin/true\"]\n[process.env]\n")
	for i := 0; b.Len() < MaxFileSize-64; i++ {
		b.WriteString("Kxxx" + itoa(i) + " = \"v\"\n")
	}
	return []byte(b.String())
}

func TestBuildLargeTable(t *testing.T) {
	if _, err := Parse("big.toml", largeSpec()); err != nil {
		t.Fatal(err)
	}
}

// deepShapes are documents whose key paths are n deep; far past maxDepth,
// each once took seconds or ran out of memory.
func deepShapes(n int) map[string]string {
	key := strings.Repeat("a.", n-1) + "a"
	return map[string]string{
		"header":                  "[" + key + "]\n",
		"array of tables":         "[[" + key + "]]\n",
		"dotted key":              key + " = 1\n",
		"dotted key inline":       "x = {" + key + " = 1}\n",
		"inline tables":           "x = " + strings.Repeat("{a = ", n) + "1" + strings.Repeat("}", n) + "\n",
		"arrays":                  "x = " + strings.Repeat("[", n) + strings.Repeat("]", n) + "\n",
		"arrays of inline tables": "x = " + strings.Repeat("[{a = ", n) + "1" + strings.Repeat("}]", n) + "\n",
	}
}

// A deep key path is one located error, whether go-toml's bound on nesting
// (10,000) or ours (maxDepth) refuses it.
func TestDeepKeys(t *testing.T) {
	for _, n := range []int{4000, 100000} {
		for name, doc := range deepShapes(n) {
			_, err := Parse("t.toml", []byte(doc))
			errs := List(err)
			e, ok := errs[0].(*Error)
			if len(errs) != 1 || !ok || e.Line != 1 || e.Col < 1 || !strings.Contains(e.Msg, "levels deep") {
				t.Errorf("%s, %d deep: got %v", name, n, err)
			}
		}
	}
}

// A key path may be maxDepth deep, counting its keys and array indexes.
func TestMaxDepth(t *testing.T) {
	key := func(n int) string { return strings.Repeat("a.", n-1) + "a" }
	for depth, want := range map[int]bool{maxDepth: true, maxDepth + 1: false} {
		for _, doc := range []string{
			"[" + key(depth) + "]\n",
			"[[" + key(depth-1) + "]]\n",
			key(depth) + " = 1\n",
			"x = " + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "\n",
			"x = " + strings.Repeat("{a = ", depth-1) + "1" + strings.Repeat("}", depth-1) + "\n",
		} {
			if _, _, err := build([]byte(doc)); (err == nil) != want {
				t.Errorf("%.30q, %d deep: %v", doc, depth, err)
			}
		}
	}
}

// Long lines and long names near the size limit: a column counted from the
// line's start, or a path string per key, made these quadratic.
func TestLongLines(t *testing.T) {
	fill := func(head, item, tail string) []byte {
		var b strings.Builder
		b.WriteString(head)
		for i := 0; b.Len() < MaxFileSize-64; i++ {
			b.WriteString(strings.ReplaceAll(item, "N", itoa(i)))
		}
		b.WriteString(tail)
		return []byte(b.String())
	}
	valid := [][]byte{
		fill("[process]\ncommand = [\"/bin/true\"", ", \"é\"", "]\n"),
		fill("[process]\ncommand = [\"/bin/true\"]\nenv = {", "KN = \"v\", ", "K = \"v\"}\n"),
	}
	for _, doc := range valid {
		if _, err := Parse("t.toml", doc); err != nil {
			t.Errorf("%.40q: %v", doc, err)
		}
	}
	doc := fill("[\""+strings.Repeat("A", MaxFileSize/2)+"\"]\n", "kN = 1\n", "")
	if _, err := Parse("t.toml", doc); err == nil || !strings.HasPrefix(err.Error(), "t.toml:1:") {
		t.Errorf("long table name: got %.100v", err)
	}
}

// BenchmarkParseLarge shows the parse of a 1 MiB spec stays linear.
func BenchmarkParseLarge(b *testing.B) {
	doc := largeSpec()
	for b.Loop() {
		Parse("big.toml", doc)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// A generated file with many problems prints a bounded number of lines, and
// a huge key or value is not echoed whole.
func TestBoundedMessages(t *testing.T) {
	var b strings.Builder
	b.WriteString("[process]\ncommand = [\"/bin/true\"]\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "k%d = 1\n", i)
	}
	_, err := Parse("t.toml", []byte(b.String()))
	es := List(err)
	if len(es) != maxErrors+1 || !strings.HasSuffix(es[maxErrors].Error(), "and 950 more problems") {
		t.Errorf("%d problems reported, the last %v; want %d and a count of the rest", len(es), es[len(es)-1], maxErrors+1)
	}
	long := strings.Repeat("é", 100000)
	for _, doc := range []string{long + " = 1\n", "name = \"" + long + "\"\n"} {
		_, err := Parse("t.toml", []byte(doc))
		for _, e := range List(err) {
			if len(e.Error()) > 1024 {
				t.Errorf("a message of %d bytes", len(e.Error()))
			}
			if !utf8.ValidString(e.Error()) {
				t.Error("a message cut inside a rune")
			}
		}
	}
}
