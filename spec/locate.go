package spec

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2/unstable"
)

// loc is where a key or value stands, and its raw text (the decoder needs the
// raw token to tell `umask = 0o22` from `umask = 22`).
type loc struct {
	line, col int
	raw       string
}

// build turns a TOML document into a generic tree (map[string]any, []any,
// string, int64, float64, bool) in one pass over go-toml's parser,
// and records for every key path where its value starts: "process.command",
// "process.command[1]", "filesystem.bind[0].source"; key names themselves are
// recorded under "path=". It enforces TOML's rules on defining keys and tables
// with a map per table, so the cost stays linear in the file's size (go-toml's
// own decoder checks duplicates with a linear search per key).
func build(data []byte) (map[string]any, map[string]loc, *Error) {
	b := &builder{locs: map[string]loc{}, lines: lineStarts(data), root: newTable(explicit)}
	b.p.Reset(data)
	cur, prefix := b.root, ""
	for b.p.NextExpression() {
		e := b.p.Expression()
		var err *Error
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			cur, prefix, err = b.header(e)
		case unstable.KeyValue:
			err = b.keyValue(cur, prefix, e, dotted)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if err := b.p.Error(); err != nil {
		return nil, nil, b.syntaxError(err)
	}
	return b.root.export(), b.locs, nil
}

// How a table came to be, which decides what may still add to it.
type tableKind int

const (
	implicit tableKind = iota // named as a parent in a [header]: a header may define it later
	explicit                  // defined by its own [header]
	dotted                    // defined by a dotted key (a.b = 1)
	inline                    // an inline table: closed
	element                   // an entry of an array of tables
)

type table struct {
	kind   tableKind
	keys   map[string]any // *table, *tableArray or a value
	order  []string
	closed bool
}

type tableArray struct {
	tables []*table
	static bool // written as a value (x = [...]), not with [[x]]
}

func (a *tableArray) export() []any {
	out := make([]any, len(a.tables))
	for i, t := range a.tables {
		out[i] = t.export()
	}
	return out
}

func newTable(k tableKind) *table { return &table{kind: k, keys: map[string]any{}} }

func (t *table) export() map[string]any {
	m := make(map[string]any, len(t.keys))
	for k, v := range t.keys {
		switch x := v.(type) {
		case *table:
			m[k] = x.export()
		case *tableArray:
			m[k] = x.export()
		default:
			m[k] = v
		}
	}
	return m
}

type builder struct {
	p     unstable.Parser
	locs  map[string]loc
	lines []int // offset of each line's first byte
	root  *table
}

func (b *builder) at(n *unstable.Node) loc {
	return b.locate(int(n.Raw.Offset), string(b.p.Raw(n.Raw)))
}

// locate maps an offset to a line and column. go-toml's Shape scans from the
// file's start on every call; a table of line starts makes it a binary search.
func (b *builder) locate(off int, raw string) loc {
	line := sort.SearchInts(b.lines, off+1)
	col := utf8.RuneCount(b.p.Data()[b.lines[line-1]:off]) + 1
	return loc{line: line, col: col, raw: raw}
}

func lineStarts(data []byte) []int {
	starts := []int{0}
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

func (b *builder) errorAt(n *unstable.Node, format string, args ...any) *Error {
	l := b.at(n)
	return &Error{Line: l.line, Col: l.col, Msg: fmt.Sprintf(format, args...)}
}

func (b *builder) syntaxError(err error) *Error {
	if pe, ok := err.(*unstable.ParserError); ok && len(pe.Highlight) > 0 {
		l := b.locate(int(b.p.Range(pe.Highlight).Offset), "")
		return &Error{Line: l.line, Col: l.col, Msg: pe.Message}
	}
	return &Error{Line: 1, Col: 1, Msg: err.Error()}
}

func keyParts(e *unstable.Node) []*unstable.Node {
	var parts []*unstable.Node
	it := e.Key()
	for it.Next() {
		parts = append(parts, it.Node())
	}
	return parts
}

// header opens the table a [header] or [[header]] names and returns it with
// its key path.
func (b *builder) header(e *unstable.Node) (*table, string, *Error) {
	parts := keyParts(e)
	cur, path := b.root, ""
	for i, k := range parts {
		name := string(k.Data)
		path = join(path, name)
		last := i == len(parts)-1
		if _, seen := b.locs[path]; !seen {
			b.locs[path] = b.at(k)
		}
		b.locs[path+"="] = b.at(k)
		var err *Error
		switch {
		case last && e.Kind == unstable.ArrayTable:
			cur, path, err = b.appendElement(cur, path, name, k)
		case last:
			cur, err = b.defineTable(cur, path, name, k)
		default:
			cur, path, err = b.descend(cur, path, name, k, implicit)
		}
		if err != nil {
			return nil, "", err
		}
	}
	return cur, path, nil
}

// descend steps into the table name within cur, creating it as kind.
func (b *builder) descend(cur *table, path, name string, k *unstable.Node, kind tableKind) (*table, string, *Error) {
	switch x := cur.keys[name].(type) {
	case nil:
		t := newTable(kind)
		cur.keys[name] = t
		return t, path, nil
	case *table:
		if x.closed || kind == dotted && x.kind != dotted {
			return nil, "", b.errorAt(k, "key %s is already defined", path)
		}
		return x, path, nil
	case *tableArray:
		if x.static || kind == dotted {
			return nil, "", b.errorAt(k, "key %s is already defined as an array", path)
		}
		n := len(x.tables) - 1
		return x.tables[n], path + "[" + strconv.Itoa(n) + "]", nil
	}
	return nil, "", b.errorAt(k, "key %s is already defined", path)
}

func (b *builder) defineTable(cur *table, path, name string, k *unstable.Node) (*table, *Error) {
	switch x := cur.keys[name].(type) {
	case nil:
		t := newTable(explicit)
		cur.keys[name] = t
		return t, nil
	case *table:
		if x.kind == implicit {
			x.kind = explicit
			return x, nil
		}
	}
	return nil, b.errorAt(k, "table %s is already defined", path)
}

func (b *builder) appendElement(cur *table, path, name string, k *unstable.Node) (*table, string, *Error) {
	t := newTable(element)
	switch x := cur.keys[name].(type) {
	case nil:
		cur.keys[name] = &tableArray{tables: []*table{t}}
		return t, path + "[0]", nil
	case *tableArray:
		if !x.static {
			x.tables = append(x.tables, t)
			return t, path + "[" + strconv.Itoa(len(x.tables)-1) + "]", nil
		}
	}
	return nil, "", b.errorAt(k, "key %s is already defined, not as an array of tables", path)
}

// keyValue defines a (possibly dotted) key in cur. Tables its dots create are
// of kind dotted, or inline inside an inline table.
func (b *builder) keyValue(cur *table, prefix string, kv *unstable.Node, kind tableKind) *Error {
	parts := keyParts(kv)
	path := prefix
	for i, k := range parts {
		name := string(k.Data)
		path = join(path, name)
		b.locs[path+"="] = b.at(k)
		if i < len(parts)-1 {
			var err *Error
			if cur, path, err = b.descend(cur, path, name, k, kind); err != nil {
				return err
			}
			continue
		}
		if _, exists := cur.keys[name]; exists {
			return b.errorAt(k, "key %s is already defined", path)
		}
		v, err := b.value(path, kv.Value(), b.locs[path+"="])
		if err != nil {
			return err
		}
		cur.keys[name] = v
		cur.order = append(cur.order, name)
	}
	return nil
}

// value converts a value node, recording where it and its elements stand. An
// array has no range of its own, so it takes its first element's place (or,
// when empty, its key's).
func (b *builder) value(path string, v *unstable.Node, keyLoc loc) (any, *Error) {
	switch v.Kind {
	case unstable.Array:
		return b.array(path, v, keyLoc)
	case unstable.InlineTable:
		b.locs[path] = b.at(v)
		t := newTable(inline)
		it := v.Children()
		for it.Next() {
			if err := b.keyValue(t, path, it.Node(), inline); err != nil {
				return nil, err
			}
		}
		closeAll(t)
		return t, nil
	}
	b.locs[path] = b.at(v)
	return b.scalar(v)
}

func (b *builder) array(path string, v *unstable.Node, keyLoc loc) (any, *Error) {
	b.locs[path] = keyLoc
	var out []any
	tables := &tableArray{static: true}
	it := v.Children()
	for i := 0; it.Next(); i++ {
		elem, err := b.value(path+"["+strconv.Itoa(i)+"]", it.Node(), keyLoc)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			b.locs[path] = b.locs[path+"[0]"]
		}
		switch x := elem.(type) {
		case *table:
			tables.tables = append(tables.tables, x)
			elem = x.export()
		case *tableArray:
			elem = x.export()
		}
		out = append(out, elem)
	}
	if len(out) > 0 && len(tables.tables) == len(out) {
		return tables, nil // kept as tables so that nothing can add to them
	}
	if out == nil {
		out = []any{}
	}
	return out, nil
}

func closeAll(t *table) {
	t.closed = true
	for _, v := range t.keys {
		if sub, ok := v.(*table); ok {
			closeAll(sub)
		}
	}
}

func (b *builder) scalar(v *unstable.Node) (any, *Error) {
	s := string(v.Data)
	switch v.Kind {
	case unstable.String:
		return s, nil
	case unstable.Bool:
		return s == "true", nil
	case unstable.Integer:
		n, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64)
		if err != nil {
			return nil, b.errorAt(v, "integer %s is out of range", s)
		}
		return n, nil
	case unstable.Float:
		f, err := parseFloat(s)
		if err != nil {
			return nil, b.errorAt(v, "float %s is out of range", s)
		}
		return f, nil
	}
	// Dates and times are refused here, whatever key they are for: no key
	// takes one, and the parser does not check their form.
	return nil, b.errorAt(v, "%s: a date or time, which no daemonbox key takes", s)
}

func parseFloat(s string) (float64, error) {
	switch strings.TrimLeft(s, "+-") {
	case "inf":
		if strings.HasPrefix(s, "-") {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	case "nan":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// lookup finds path's place, falling back to the nearest enclosing key, so
// that a problem with a missing key points at its table.
func (s *Spec) lookup(path string) (loc, bool) {
	for path != "" {
		if l, ok := s.locs[path]; ok {
			return l, true
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return loc{}, false
}
