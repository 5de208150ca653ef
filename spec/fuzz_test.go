package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the parser and validator: they must never
// panic, every problem must be located, and a spec they accept must hold the
// invariants the launcher relies on.
func FuzzParse(f *testing.F) {
	examples, _ := filepath.Glob("../examples/*.toml")
	for _, path := range examples {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("[process]\ncommand = [\"/bin/true\"]\n[rlimits]\nnofile = { soft = 1, hard = 2 }\n"))
	f.Add([]byte("[[filesystem.bind]]\nsource = \"/a\"\ntarget = \"/b\"\n[namespaces]\nuid_map = [{inside = 0, outside = 1, count = 1}]\n"))
	f.Add([]byte("a = [[[{b = 0o7}]]]\n[user]\ngroups = [1, \"x\"]\n"))
	for _, doc := range deepShapes(maxDepth + 1) {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.toml", data)
		if err != nil {
			for _, e := range List(err) {
				se, ok := e.(*Error)
				if !ok || se.Line < 1 || se.Col < 1 {
					t.Fatalf("unlocated error %#v", e)
				}
			}
			return
		}
		p := s.Process
		if len(p.Command) == 0 || !strings.HasPrefix(p.Command[0], "/") || p.Umask > 0o777 || !strings.HasPrefix(p.Cwd, "/") {
			t.Fatalf("accepted a spec the launcher cannot use: %+v", p)
		}
		for _, l := range s.Rlimits {
			if l != nil && l.Soft > l.Hard {
				t.Fatalf("accepted soft > hard: %+v", l)
			}
		}
		for _, sig := range s.Signals.Ignore {
			if sig == 9 || sig == 19 {
				t.Fatal("accepted an ignored SIGKILL or SIGSTOP")
			}
		}
	})
}
