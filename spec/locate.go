package spec

import (
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// loc is where a key or value stands, and its raw text (the decoder needs the
// raw token to tell `umask = 0o22` from `umask = 22`).
type loc struct {
	line, col int
	raw       string
}

// locate walks the document once and records, for every key path, where its
// value starts: "process.command", "process.command[1]",
// "filesystem.bind[0].source". Key names are recorded under "path=" so an
// unknown key can point at the key itself.
func locate(data []byte) map[string]loc {
	w := walker{locs: map[string]loc{}, arrays: map[string]int{}}
	w.p.Reset(data)
	prefix := ""
	for w.p.NextExpression() {
		e := w.p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			prefix = w.header(e)
		case unstable.KeyValue:
			w.keyValue(prefix, e)
		}
	}
	return w.locs
}

type walker struct {
	p      unstable.Parser
	locs   map[string]loc
	arrays map[string]int // array-of-tables path -> entries seen
}

func (w *walker) at(n *unstable.Node) loc {
	s := w.p.Shape(n.Raw)
	return loc{line: s.Start.Line, col: s.Start.Column, raw: string(w.p.Raw(n.Raw))}
}

// header returns the path that a [table] or [[array]] header opens.
func (w *walker) header(e *unstable.Node) string {
	var parts []*unstable.Node
	it := e.Key()
	for it.Next() {
		parts = append(parts, it.Node())
	}
	path := ""
	for i, k := range parts {
		path = join(path, string(k.Data))
		if _, seen := w.locs[path]; !seen {
			w.locs[path] = w.at(k)
		}
		if i == len(parts)-1 && e.Kind == unstable.ArrayTable {
			n := w.arrays[path]
			w.arrays[path] = n + 1
			path += "[" + strconv.Itoa(n) + "]"
		} else if n := w.arrays[path]; n > 0 {
			path += "[" + strconv.Itoa(n-1) + "]"
		}
		w.locs[path+"="] = w.at(k)
	}
	w.locs[path] = w.at(parts[len(parts)-1])
	return path
}

func (w *walker) keyValue(prefix string, kv *unstable.Node) {
	path := prefix
	it := kv.Key()
	for it.Next() {
		path = join(path, string(it.Node().Data))
		w.locs[path+"="] = w.at(it.Node())
	}
	w.value(path, kv.Value(), w.locs[path+"="])
}

// value records v at path; an array has no range of its own, so it takes its
// first element's place (or, when empty, its key's).
func (w *walker) value(path string, v *unstable.Node, keyLoc loc) {
	switch v.Kind {
	case unstable.Array:
		it := v.Children()
		first := true
		for i := 0; it.Next(); i++ {
			w.value(path+"["+strconv.Itoa(i)+"]", it.Node(), keyLoc)
			if first {
				w.locs[path] = w.locs[path+"[0]"]
				first = false
			}
		}
		if first {
			w.locs[path] = keyLoc
		}
	case unstable.InlineTable:
		w.locs[path] = w.at(v)
		it := v.Children()
		for it.Next() {
			w.keyValue(path, it.Node())
		}
	default:
		w.locs[path] = w.at(v)
	}
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
