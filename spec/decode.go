package spec

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"syscall"
	"unicode/utf8"
)

// MaxFileSize bounds a spec file; real specs are a few hundred bytes.
const MaxFileSize = 1 << 20

// Load reads and parses the spec file at path.
func Load(path string) (*Spec, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

// readBounded reads at most MaxFileSize+1 bytes, so that an oversized file is
// seen as such. It uses plain system calls: the os package's first Open sets
// up Go's poller, which costs more than reading a spec.
func readBounded(path string) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	buf := make([]byte, 0, 4096)
	for len(buf) <= MaxFileSize {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			break
		}
		buf = buf[:len(buf)+n]
	}
	return buf, nil
}

// Parse decodes and validates a spec. The error, if any, is an Errors holding
// every problem found, sorted by position.
func Parse(file string, data []byte) (*Spec, error) {
	if e := checkBytes(file, data); e != nil {
		return nil, Errors{e}
	}
	doc, locs, perr := build(data)
	if perr != nil {
		perr.File = file
		return nil, Errors{perr}
	}
	s := defaults()
	s.File = file
	s.locs = locs
	d := &decoder{s: s}
	d.document(doc)
	if len(d.errs) > 0 {
		sort.SliceStable(d.errs, func(i, j int) bool {
			a, b := d.errs[i], d.errs[j]
			return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
		})
		return nil, d.errs.first(maxErrors)
	}
	return s, nil
}

// maxErrors is how many problems one file reports: enough for any spec a
// person wrote, and a bound on what a generated one prints (90,000 unknown
// keys made 3 MB of messages).
const maxErrors = 50

// checkBytes refuses what TOML forbids before the parser sees it, so the
// message says where: NUL bytes, invalid UTF-8, and oversized or empty files.
func checkBytes(file string, data []byte) *Error {
	if len(data) > MaxFileSize {
		return &Error{File: file, Line: 1, Col: 1, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return &Error{File: file, Line: 1, Col: 1, Msg: "file is empty: process.command is required"}
	}
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return &Error{File: file, Line: line, Col: col, Msg: "invalid UTF-8"}
		case r == 0:
			return &Error{File: file, Line: line, Col: col, Msg: "NUL byte"}
		case r == '\n':
			line, col = line+1, 0
		}
		i += size
		col++
	}
	return nil
}

// decoder turns the generic TOML tree into a Spec, collecting every problem.
type decoder struct {
	s    *Spec
	errs Errors
}

func (d *decoder) fail(path, format string, args ...any) {
	d.errs = append(d.errs, d.s.Errorf(path, format, args...))
}

// failElem reports a problem with element i of the array at path, pointing at
// the element but naming the key.
func (d *decoder) failElem(path string, i int, format string, args ...any) {
	e := d.s.Errorf(path, format, args...)
	if l, ok := d.s.where(path + "[" + strconv.Itoa(i) + "]"); ok {
		e.Line, e.Col = l.line, l.col
	}
	d.errs = append(d.errs, e)
}

// table checks that v is a table with no keys but known ones.
func (d *decoder) table(path string, v any, known []string) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		d.fail(path, "expected a table, got %s", describe(v))
		return nil, false
	}
	for _, k := range sortedKeys(m) {
		if !slices.Contains(known, k) {
			d.failKey(path, k, "unknown key %q%s", clip(k), keyHint(path, k, m[k], known))
		}
	}
	return m, true
}

// failKey reports a problem with the name of key k in table path, pointing at
// the key itself.
func (d *decoder) failKey(path, k, format string, args ...any) {
	e := d.s.Errorf(join(path, k)+"=", format, args...)
	e.Path = path
	d.errs = append(d.errs, e)
}

// each calls fn for every key of m that is present, in a fixed order.
func each(m map[string]any, keys []string, fn func(key string, v any)) {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			fn(k, v)
		}
	}
}

func (d *decoder) str(path string, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		d.fail(path, "expected a string, got %s", describe(v))
		return "", false
	}
	if bytes.IndexByte([]byte(s), 0) >= 0 {
		d.fail(path, "contains a NUL character")
		return "", false
	}
	return s, true
}

func (d *decoder) boolean(path string, v any) (bool, bool) {
	b, ok := v.(bool)
	if !ok {
		d.fail(path, "expected true or false, got %s", describe(v))
	}
	return b, ok
}

func (d *decoder) integer(path string, v any, lo, hi int64) (int64, bool) {
	n, ok := v.(int64)
	if !ok {
		d.fail(path, "expected an integer, got %s", describe(v))
		return 0, false
	}
	if n < lo || n > hi {
		d.fail(path, "%d is out of range (%d to %d)", n, lo, hi)
		return 0, false
	}
	return n, true
}

// array checks that v is an array and calls fn on each element with its index.
func (d *decoder) array(path string, v any, fn func(i int, elem any)) bool {
	a, ok := v.([]any)
	if !ok {
		d.fail(path, "expected an array, got %s", describe(v))
		return false
	}
	for i, e := range a {
		fn(i, e)
	}
	return true
}

// strings decodes an array of strings; a bad element is reported at its place.
func (d *decoder) strings(path string, v any) ([]string, bool) {
	var out []string
	good := true
	okArr := d.array(path, v, func(i int, e any) {
		s, ok := e.(string)
		switch {
		case !ok:
			d.failElem(path, i, "element %d: expected a string, got %s", i, describe(e))
			good = false
		case bytes.IndexByte([]byte(s), 0) >= 0:
			d.failElem(path, i, "element %d contains a NUL character", i)
			good = false
		default:
			out = append(out, s)
		}
	})
	return out, okArr && good
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("string %q", x)
	case int64:
		return fmt.Sprintf("integer %d", x)
	case float64:
		return fmt.Sprintf("float %v", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	default:
		return fmt.Sprintf("%v", x)
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortedEnv(env map[string]string) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
