package spec

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

var (
	topKeys        = []string{"version", "name", "process", "user", "filesystem", "namespaces", "capabilities", "rlimits", "fds", "signals", "daemon"}
	processKeys    = []string{"command", "env", "inherit_env", "cwd", "umask", "no_new_privileges", "oom_score_adj"}
	userKeys       = []string{"user", "group", "groups"}
	filesystemKeys = []string{"root", "readonly", "masked", "tmpfs", "bind", "dev"}
	bindKeys       = []string{"source", "target", "readonly"}
	namespaceKeys  = []string{"pid", "init", "mount", "network", "ipc", "uts", "hostname", "cgroup", "user", "uid_map", "gid_map"}
	idMapKeys      = []string{"inside", "outside", "count"}
	capKeys        = []string{"drop", "keep"}
	fdKeys         = []string{"stdin", "stdout", "stderr", "preserve", "listen"}
	listenKeys     = []string{"name", "address"}
	signalKeys     = []string{"ignore", "stop", "stop_timeout", "reload", "parent_death"}
	daemonKeys     = []string{"detach", "pidfile", "restart", "ready", "ready_timeout"}
)

// MaxID is the largest uid or gid; (uid_t)-1 means "unchanged" to the kernel.
const MaxID = 1<<32 - 2

func (d *decoder) document(doc map[string]any) {
	m, _ := d.table("", doc, topKeys)
	if v, ok := m["version"]; ok {
		if n, ok := d.integer("version", v, 1, 1); ok {
			d.s.Version = int(n)
		}
	}
	if v, ok := m["name"]; ok {
		d.name(v)
	}
	proc, ok := m["process"]
	if !ok {
		d.fail("", "[process] with command is required")
	} else {
		d.process(proc)
	}
	sections := []struct {
		key string
		fn  func(any)
	}{
		{"user", d.user}, {"filesystem", d.filesystem}, {"namespaces", d.namespaces},
		{"capabilities", d.capabilities}, {"rlimits", d.rlimits}, {"fds", d.fds},
		{"signals", d.signals}, {"daemon", d.daemon},
	}
	for _, sec := range sections {
		if v, ok := m[sec.key]; ok {
			sec.fn(v)
		}
	}
	d.implyMount()
}

func (d *decoder) name(v any) {
	s, ok := d.str("name", v)
	if !ok {
		return
	}
	if s == "" || len(s) > 64 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
		d.fail("name", "%q: use 1 to 64 letters, digits, '.', '_' or '-'", s)
		return
	}
	d.s.Name = s
}

func (d *decoder) process(v any) {
	m, ok := d.table("process", v, processKeys)
	if !ok {
		return
	}
	p := &d.s.Process
	if c, ok := m["command"]; ok {
		d.command(c)
	} else {
		d.fail("process", "command is required")
	}
	each(m, processKeys[1:], func(k string, v any) {
		key := "process." + k
		switch k {
		case "env":
			d.env(key, v)
		case "inherit_env":
			if names, ok := d.strings(key, v); ok {
				for i, n := range names {
					if !validEnvName(n) {
						d.failElem(key, i, "%q is not a valid variable name", n)
					} else if _, dup := p.Env[n]; dup {
						d.failElem(key, i, "%q is also set in process.env; say it once", n)
					}
				}
				p.InheritEnv = names
			}
		case "cwd":
			if s, ok := d.absPath(key, v); ok {
				p.Cwd = s
			}
		case "umask":
			d.umask(key, v)
		case "no_new_privileges":
			if b, ok := d.boolean(key, v); ok {
				p.NoNewPrivileges = b
			}
		case "oom_score_adj":
			if n, ok := d.integer(key, v, -1000, 1000); ok {
				adj := int(n)
				p.OOMScoreAdj = &adj
			}
		}
	})
}

func (d *decoder) command(v any) {
	argv, ok := d.strings("process.command", v)
	if !ok {
		return
	}
	switch {
	case len(argv) == 0:
		d.fail("process.command", "must not be empty")
	case !strings.HasPrefix(argv[0], "/"):
		d.failElem("process.command", 0, "%q is not an absolute path (no PATH search is done)", argv[0])
	default:
		d.s.Process.Command = argv
	}
}

func (d *decoder) env(key string, v any) {
	m, ok := v.(map[string]any)
	if !ok {
		d.fail(key, "expected a table of NAME = \"value\", got %s", describe(v))
		return
	}
	env := map[string]string{}
	for _, name := range sortedKeys(m) {
		if !validEnvName(name) {
			d.failKey(key, name, "%q is not a valid variable name", name)
			continue
		}
		if s, ok := d.str(key+"."+name, m[name]); ok {
			env[name] = s
		}
	}
	d.s.Process.Env = env
}

func validEnvName(n string) bool {
	return n != "" && !strings.ContainsAny(n, "=\x00")
}

// umask takes TOML octal (0o027) or an octal string ("0027"). A decimal
// integer is refused: `umask = 22` would silently mean 0o026.
func (d *decoder) umask(key string, v any) {
	var digits string
	switch x := v.(type) {
	case int64:
		l, _ := d.s.where(key)
		raw := l.raw
		if !strings.HasPrefix(raw, "0o") && x != 0 {
			d.fail(key, "%s is a decimal integer; write it in octal: 0o%s or \"%s\"", raw, raw, raw)
			return
		}
		digits = strconv.FormatInt(x, 8)
	case string:
		digits = strings.TrimPrefix(x, "0o")
	default:
		d.fail(key, "expected an octal integer (0o022) or string (\"0022\"), got %s", describe(v))
		return
	}
	n, err := strconv.ParseUint(digits, 8, 32)
	if err != nil || n > 0o777 {
		d.fail(key, "%v is not a umask: use 0o000 to 0o777", v)
		return
	}
	d.s.Process.Umask = uint32(n)
}

func (d *decoder) absPath(key string, v any) (string, bool) {
	s, ok := d.str(key, v)
	if !ok {
		return "", false
	}
	if problem := pathProblem(s); problem != "" {
		d.fail(key, "%q %s", s, problem)
		return "", false
	}
	return s, true
}

func pathProblem(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "is not an absolute path"
	case path.Clean(p) != p:
		return fmt.Sprintf("is not canonical (write %q)", path.Clean(p))
	}
	return ""
}

func (d *decoder) paths(key string, v any) []string {
	list, ok := d.strings(key, v)
	if !ok {
		return nil
	}
	for i, p := range list {
		if problem := pathProblem(p); problem != "" {
			d.failElem(key, i, "%q %s", p, problem)
		}
	}
	return list
}

func (d *decoder) user(v any) {
	m, ok := d.table("user", v, userKeys)
	if !ok {
		return
	}
	u := &d.s.User
	if x, ok := m["user"]; ok {
		u.User = d.id("user.user", x)
	}
	if x, ok := m["group"]; ok {
		u.Group = d.id("user.group", x)
	}
	if x, ok := m["groups"]; ok {
		seen := map[ID]bool{}
		d.array("user.groups", x, func(i int, e any) {
			id := d.id("user.groups["+strconv.Itoa(i)+"]", e)
			if id == nil {
				return
			}
			if seen[*id] {
				d.failElem("user.groups", i, "%s is listed twice", id)
			}
			seen[*id] = true
			u.Groups = append(u.Groups, *id)
		})
	}
}

// id decodes a user or group: a string is a name, an integer a number.
func (d *decoder) id(key string, v any) *ID {
	switch x := v.(type) {
	case string:
		if x == "" || strings.ContainsAny(x, ":\n\x00 ") {
			d.fail(key, "%q is not a valid name", x)
			return nil
		}
		return &ID{Name: x, IsName: true}
	case int64:
		if x < 0 || x > MaxID {
			d.fail(key, "%d is out of range (0 to %d)", x, MaxID)
			return nil
		}
		return &ID{Num: uint32(x)}
	}
	d.fail(key, "expected a name or a number, got %s", describe(v))
	return nil
}

func (d *decoder) filesystem(v any) {
	m, ok := d.table("filesystem", v, filesystemKeys)
	if !ok {
		return
	}
	f := &d.s.Filesystem
	if x, ok := m["root"]; ok {
		if s, ok := d.absPath("filesystem.root", x); ok {
			f.Root = s
		}
	}
	each(m, []string{"readonly", "masked", "tmpfs"}, func(k string, x any) {
		list := d.paths("filesystem."+k, x)
		switch k {
		case "readonly":
			f.Readonly = list
		case "masked":
			f.Masked = list
		case "tmpfs":
			f.Tmpfs = list
		}
	})
	if x, ok := m["bind"]; ok {
		d.array("filesystem.bind", x, func(i int, e any) {
			key := "filesystem.bind[" + strconv.Itoa(i) + "]"
			bm, ok := d.table(key, e, bindKeys)
			if !ok {
				return
			}
			var b Bind
			b.Source, _ = d.requiredPath(key, bm, "source")
			b.Target, _ = d.requiredPath(key, bm, "target")
			if r, ok := bm["readonly"]; ok {
				b.Readonly, _ = d.boolean(key+".readonly", r)
			}
			f.Bind = append(f.Bind, b)
		})
	}
	if x, ok := m["dev"]; ok {
		if b, ok := d.boolean("filesystem.dev", x); ok {
			f.Dev = &b
		}
	}
}

func (d *decoder) requiredPath(table string, m map[string]any, key string) (string, bool) {
	v, ok := m[key]
	if !ok {
		d.fail(table, "%s is required", key)
		return "", false
	}
	return d.absPath(table+"."+key, v)
}

// notYet refuses a key this build parses but cannot apply: ignoring it would
// give the operator less confinement than the spec says.
func (d *decoder) notYet(key string, set bool, why string) {
	if set {
		d.fail(key, "not supported yet (%s)", why)
	}
}
