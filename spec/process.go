package spec

import (
	"strconv"
	"strings"
)

// [process]: the command, its environment, cwd, umask and privileges.

var (
	processKeys = []string{"command", "env", "inherit_env", "env_file", "cwd", "umask", "no_new_privileges", "oom_score_adj"}
)

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
		case "env_file":
			if s, ok := d.absPath(key, v); ok {
				p.EnvFile = s
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
	if n, ok := d.octal(key, v, "umask"); ok {
		d.s.Process.Umask = n
	}
}

// octal reads a permission value from 0o000 to 0o777, as TOML octal or an
// octal string; what names it in messages.
func (d *decoder) octal(key string, v any, what string) (uint32, bool) {
	var digits string
	switch x := v.(type) {
	case int64:
		l, _ := d.s.where(key)
		raw := l.raw
		if !strings.HasPrefix(raw, "0o") && x != 0 {
			d.fail(key, "%s is a decimal integer; write it in octal: 0o%s or \"%s\"", raw, raw, raw)
			return 0, false
		}
		digits = strconv.FormatInt(x, 8)
	case string:
		digits = strings.TrimPrefix(x, "0o")
	default:
		d.fail(key, "expected an octal integer (0o022) or string (\"0022\"), got %s", describe(v))
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 8, 32)
	if err != nil || n > 0o777 {
		d.fail(key, "%v is not a %s: use 0o000 to 0o777", v, what)
		return 0, false
	}
	return uint32(n), true
}
