package spec

import (
	"strconv"
	"strings"
)

// [fds]: the standard streams, preserved fds and listening sockets.

var (
	fdKeys     = []string{"stdin", "stdout", "stderr", "preserve", "listen"}
	listenKeys = []string{"name", "address"}
)

func (d *decoder) fds(v any) {
	m, ok := d.table("fds", v, fdKeys)
	if !ok {
		return
	}
	f := &d.s.FDs
	streams := map[string]*Stdio{"stdin": &f.Stdin, "stdout": &f.Stdout, "stderr": &f.Stderr}
	each(m, fdKeys, func(k string, x any) {
		key := "fds." + k
		switch k {
		case "preserve":
			f.Preserve = d.preserve(key, x)
		case "listen":
			f.Listen = d.listen(key, x)
			d.notYet(key, len(f.Listen) > 0, "listen sockets arrive in a later release")
		default:
			if st, ok := d.stdio(key, x); ok {
				*streams[k] = st
			}
		}
	})
}

func (d *decoder) stdio(key string, v any) (Stdio, bool) {
	s, ok := d.str(key, v)
	if !ok {
		return Stdio{}, false
	}
	switch s {
	case "null":
		return Stdio{Kind: StdioNull}, true
	case "inherit":
		return Stdio{Kind: StdioInherit}, true
	}
	if problem := pathProblem(s); problem != "" {
		d.fail(key, "%q: expected \"null\", \"inherit\" or a file path, and it %s", s, problem)
		return Stdio{}, false
	}
	return Stdio{Kind: StdioFile, Path: s}, true
}

// MaxPreservedFD bounds fds.preserve; the kernel's own ceiling is fs.nr_open.
const MaxPreservedFD = 1 << 20

func (d *decoder) preserve(key string, v any) []int {
	var out []int
	seen := map[int64]bool{}
	d.array(key, v, func(i int, e any) {
		n, ok := e.(int64)
		switch {
		case !ok:
			d.failElem(key, i, "element %d: expected an fd number, got %s", i, describe(e))
		case n < 3:
			d.failElem(key, i, "fd %d is a standard stream: set fds.%s = \"inherit\" instead", n, []string{"stdin", "stdout", "stderr"}[max(n, 0)])
		case n > MaxPreservedFD:
			d.failElem(key, i, "fd %d is out of range (3 to %d)", n, MaxPreservedFD)
		case seen[n]:
			d.failElem(key, i, "fd %d is listed twice", n)
		default:
			seen[n] = true
			out = append(out, int(n))
		}
	})
	return out
}

func (d *decoder) listen(key string, v any) []Listen {
	var out []Listen
	d.array(key, v, func(i int, e any) {
		k := key + "[" + strconv.Itoa(i) + "]"
		m, ok := d.table(k, e, listenKeys)
		if !ok {
			return
		}
		var l Listen
		if x, ok := m["name"]; ok {
			l.Name, _ = d.str(k+".name", x)
		}
		if x, ok := m["address"]; !ok {
			d.fail(k, "address is required")
		} else if a, ok := d.str(k+".address", x); ok {
			if !hasAnyPrefix(a, "tcp://", "tcp6://", "udp://", "udp6://", "unix://") {
				d.fail(k+".address", "%q: expected tcp://, tcp6://, udp://, udp6:// or unix://", a)
			}
			l.Address = a
		}
		out = append(out, l)
	})
	return out
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
