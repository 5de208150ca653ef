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
// and records for every key path where its value and its name stand (see
// place). It enforces TOML's rules on defining keys and tables with a map per
// table, so the cost stays linear in the file's size (go-toml's own decoder
// checks duplicates with a linear search per key).
func build(data []byte) (map[string]any, *place, *Error) {
	b := &builder{root: newTable(explicit), places: &place{index: -1}}
	b.lines, b.runes = index(data)
	b.p.Reset(data)
	cur, at := b.root, b.places
	for b.p.NextExpression() {
		e := b.p.Expression()
		var err *Error
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			cur, at, err = b.header(e)
		case unstable.KeyValue:
			err = b.keyValue(cur, at, e, dotted)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if err := b.p.Error(); err != nil {
		return nil, nil, b.syntaxError(err)
	}
	return b.root.export(), b.places, nil
}

// maxDepth bounds a key path: its keys and array indexes, counted from the
// document's root. Real specs go four deep (namespaces.uid_map[0].inside).
// Some work is done per level over everything below it (closing an inline
// table, exporting an array's tables, trying the rest of a path in lookup),
// so an unbounded depth made a deep header, dotted key or nesting quadratic;
// go-toml's own bound is 10,000 nested arrays and inline tables, and none on
// dotted keys.
const maxDepth = 64

// place is where one key path stands: its value (a table's is its first
// header) and its name. Places form a tree that mirrors the document, so that
// recording a key costs its own name only: a map from whole path strings cost
// every key its full path, which a deep header or a long table name over
// many keys made quadratic.
type place struct {
	parent *place
	name   string // the key; "" for an array element
	index  int    // the array element's index; -1 for a key
	depth  int
	value  loc // line 0 when the path has no value of its own in the file
	key    loc
	keys   map[string]*place
	elems  []*place
}

// path names p as the decoder does: "filesystem.bind[0].source".
func (p *place) path() string {
	switch {
	case p.parent == nil:
		return ""
	case p.index >= 0:
		return p.parent.path() + "[" + strconv.Itoa(p.index) + "]"
	}
	return join(p.parent.path(), p.name)
}

// child returns the place of key name within p, making it if it is new;
// where locates the error if it would be too deep.
func (p *place) child(name string, where loc) (*place, *Error) {
	if c, ok := p.keys[name]; ok {
		return c, nil
	}
	if p.depth == maxDepth {
		return nil, tooDeep(where)
	}
	c := &place{parent: p, name: name, index: -1, depth: p.depth + 1}
	if p.keys == nil {
		p.keys = map[string]*place{}
	}
	p.keys[name] = c
	return c, nil
}

// elem is child for element i of an array; elements come in order.
func (p *place) elem(i int, where loc) (*place, *Error) {
	if i < len(p.elems) {
		return p.elems[i], nil
	}
	if p.depth == maxDepth {
		return nil, tooDeep(where)
	}
	c := &place{parent: p, index: i, depth: p.depth + 1}
	p.elems = append(p.elems, c)
	return c, nil
}

func tooDeep(l loc) *Error {
	return &Error{Line: l.line, Col: l.col, Msg: fmt.Sprintf("keys and arrays nest more than %d levels deep", maxDepth)}
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
	p      unstable.Parser
	lines  []int // offset of each line's first byte
	runes  []int // runes before each block of runeBlock bytes
	root   *table
	places *place
}

func (b *builder) at(n *unstable.Node) loc {
	return b.locate(int(n.Raw.Offset), string(b.p.Raw(n.Raw)))
}

// locate maps an offset to a line and column. go-toml's Shape scans from the
// file's start on every call; a table of line starts makes it a binary search.
// Counting the column's runes from the line's start made a long line (one
// array of 100,000 elements) quadratic, so the count starts from a block's.
func (b *builder) locate(off int, raw string) loc {
	line := sort.SearchInts(b.lines, off+1)
	col := b.runesBefore(off) - b.runesBefore(b.lines[line-1]) + 1
	return loc{line: line, col: col, raw: raw}
}

// runeBlock is the stride of index's rune counts.
const runeBlock = 128

// index returns the offset of each line's first byte, and how many runes
// start before each runeBlock-byte block (and before the end, when it is a
// block's start).
func index(data []byte) (lines, runes []int) {
	lines = []int{0}
	for i, c := range data {
		if c == '\n' {
			lines = append(lines, i+1)
		}
	}
	n := 0
	for start := 0; start <= len(data); start += runeBlock {
		runes = append(runes, n)
		n += runeStarts(data[start:min(start+runeBlock, len(data))])
	}
	return lines, runes
}

func (b *builder) runesBefore(off int) int {
	blk := off / runeBlock
	return b.runes[blk] + runeStarts(b.p.Data()[blk*runeBlock:off])
}

// runeStarts counts the bytes that start a rune, which in valid UTF-8 (Parse
// checks it) is utf8.RuneCount, but adds up across blocks that split a rune.
func runeStarts(p []byte) int {
	n := 0
	for _, c := range p {
		if utf8.RuneStart(c) {
			n++
		}
	}
	return n
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
// its place.
func (b *builder) header(e *unstable.Node) (*table, *place, *Error) {
	parts := keyParts(e)
	cur, at := b.root, b.places
	for i, k := range parts {
		name, l := string(k.Data), b.at(k)
		var err *Error
		if at, err = at.child(name, l); err != nil {
			return nil, nil, err
		}
		if at.value.line == 0 {
			at.value = l
		}
		at.key = l
		last := i == len(parts)-1
		switch {
		case last && e.Kind == unstable.ArrayTable:
			cur, at, err = b.appendElement(cur, at, name, k)
		case last:
			cur, err = b.defineTable(cur, at, name, k)
		default:
			cur, at, err = b.descend(cur, at, name, k, implicit)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return cur, at, nil
}

// descend steps into the table name within cur, creating it as kind.
func (b *builder) descend(cur *table, at *place, name string, k *unstable.Node, kind tableKind) (*table, *place, *Error) {
	switch x := cur.keys[name].(type) {
	case nil:
		t := newTable(kind)
		cur.keys[name] = t
		return t, at, nil
	case *table:
		if x.closed || kind == dotted && x.kind != dotted {
			return nil, nil, b.errorAt(k, "key %s is already defined", at.path())
		}
		return x, at, nil
	case *tableArray:
		if x.static || kind == dotted {
			return nil, nil, b.errorAt(k, "key %s is already defined as an array", at.path())
		}
		n := len(x.tables) - 1
		elem, err := at.elem(n, b.at(k))
		if err != nil {
			return nil, nil, err
		}
		return x.tables[n], elem, nil
	}
	return nil, nil, b.errorAt(k, "key %s is already defined", at.path())
}

func (b *builder) defineTable(cur *table, at *place, name string, k *unstable.Node) (*table, *Error) {
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
	return nil, b.errorAt(k, "table %s is already defined", at.path())
}

func (b *builder) appendElement(cur *table, at *place, name string, k *unstable.Node) (*table, *place, *Error) {
	var tables *tableArray
	switch x := cur.keys[name].(type) {
	case nil:
		tables = &tableArray{}
		cur.keys[name] = tables
	case *tableArray:
		if !x.static {
			tables = x
		}
	}
	if tables == nil {
		return nil, nil, b.errorAt(k, "key %s is already defined, not as an array of tables", at.path())
	}
	elem, err := at.elem(len(tables.tables), b.at(k))
	if err != nil {
		return nil, nil, err
	}
	t := newTable(element)
	tables.tables = append(tables.tables, t)
	return t, elem, nil
}

// keyValue defines a (possibly dotted) key in cur. Tables its dots create are
// of kind dotted, or inline inside an inline table.
func (b *builder) keyValue(cur *table, at *place, kv *unstable.Node, kind tableKind) *Error {
	parts := keyParts(kv)
	for i, k := range parts {
		name, l := string(k.Data), b.at(k)
		var err *Error
		if at, err = at.child(name, l); err != nil {
			return err
		}
		at.key = l
		if i < len(parts)-1 {
			if cur, at, err = b.descend(cur, at, name, k, kind); err != nil {
				return err
			}
			continue
		}
		if _, exists := cur.keys[name]; exists {
			return b.errorAt(k, "key %s is already defined", at.path())
		}
		v, err := b.value(at, kv.Value(), l)
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
func (b *builder) value(at *place, v *unstable.Node, keyLoc loc) (any, *Error) {
	switch v.Kind {
	case unstable.Array:
		return b.array(at, v, keyLoc)
	case unstable.InlineTable:
		at.value = b.at(v)
		t := newTable(inline)
		it := v.Children()
		for it.Next() {
			if err := b.keyValue(t, at, it.Node(), inline); err != nil {
				return nil, err
			}
		}
		closeAll(t)
		return t, nil
	}
	at.value = b.at(v)
	return b.scalar(v)
}

func (b *builder) array(at *place, v *unstable.Node, keyLoc loc) (any, *Error) {
	at.value = keyLoc
	var out []any
	tables := &tableArray{static: true}
	it := v.Children()
	for i := 0; it.Next(); i++ {
		elem, err := b.element(at, i, it.Node(), keyLoc)
		if err != nil {
			return nil, err
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

// element converts element i of the array at at; the first one gives the
// array its place.
func (b *builder) element(at *place, i int, v *unstable.Node, keyLoc loc) (any, *Error) {
	where := keyLoc
	if v.Kind != unstable.Array {
		where = b.at(v)
	}
	p, err := at.elem(i, where)
	if err != nil {
		return nil, err
	}
	elem, err := b.value(p, v, keyLoc)
	if i == 0 {
		at.value = p.value
	}
	return elem, err
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
// that a problem with a missing key points at its table. A path ending in "="
// asks where the key's name stands.
// Has reports whether the file sets the key at path.
func (s *Spec) Has(path string) bool {
	if s.locs == nil {
		return false
	}
	_, rest := s.locs.find(path)
	return rest == ""
}

func (s *Spec) lookup(path string) (loc, bool) {
	if s.locs == nil {
		return loc{}, false
	}
	name := strings.HasSuffix(path, "=")
	p, rest := s.locs.find(strings.TrimSuffix(path, "="))
	if name && rest == "" {
		if p.key.line > 0 {
			return p.key, true
		}
		p = p.parent
	}
	for ; p != nil; p = p.parent {
		if p.value.line > 0 {
			return p.value, true
		}
	}
	return loc{}, false
}

// where is where path's value stands, without falling back.
func (s *Spec) where(path string) (loc, bool) {
	if s.locs == nil {
		return loc{}, false
	}
	p, rest := s.locs.find(path)
	return p.value, rest == "" && p.value.line > 0
}

// find walks path down from p as far as the file has it, and returns the
// place reached and the rest of path.
func (p *place) find(path string) (*place, string) {
	for path != "" {
		next, rest := p.step(path)
		if next == nil {
			break
		}
		p, path = next, rest
	}
	return p, path
}

// step takes one key or index off path. A key is tried first as the whole rest
// of path, so that a last key with a dot in its name (an environment
// variable's, say) is found; the decoder names the tables above it by their
// known keys.
func (p *place) step(path string) (*place, string) {
	if path[0] == '[' {
		end := strings.IndexByte(path, ']')
		if end < 0 {
			return nil, path
		}
		i, err := strconv.Atoi(path[1:end])
		if err != nil || i < 0 || i >= len(p.elems) {
			return nil, path
		}
		return p.elems[i], path[end+1:]
	}
	name := path
	if p.parent != nil {
		if path[0] != '.' {
			return nil, path
		}
		name = path[1:]
	}
	if c, ok := p.keys[name]; ok {
		return c, ""
	}
	if i := strings.IndexAny(name, ".["); i >= 0 {
		if c, ok := p.keys[name[:i]]; ok {
			return c, name[i:]
		}
	}
	return nil, path
}
