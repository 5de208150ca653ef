package spec

import "strconv"

// [fds]: the standard streams, preserved fds and listening sockets.

var (
	// listen before preserve: a preserved fd must not be where a socket arrives.
	fdKeys     = []string{"stdin", "stdout", "stderr", "listen", "preserve"}
	listenKeys = []string{"name", "address", "mode", "owner"}
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
			f.Preserve = d.preserve(key, x, len(f.Listen))
		case "listen":
			f.Listen = d.listen(key, x)
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

// preserve reads fds.preserve. Listen sockets arrive at fds 3 to
// 3+listen-1, so a preserved fd there is refused.
func (d *decoder) preserve(key string, v any, listen int) []int {
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
		case n < 3+int64(listen):
			d.failElem(key, i, "fd %d is where a listen socket arrives (fds.listen takes %s): preserve an fd above", n, ListenFDs(listen))
		default:
			seen[n] = true
			out = append(out, int(n))
		}
	})
	return out
}

// ListenFDs names the fds that n listen sockets take, for messages.
func ListenFDs(n int) string {
	if n == 1 {
		return "fd 3"
	}
	return "fds 3 to " + strconv.Itoa(2+n)
}
