package spec

import "strconv"

// [filesystem]: the root directory and the mounts made inside it.

var (
	filesystemKeys = []string{"root", "readonly", "writable", "masked", "tmpfs", "bind", "dev"}
	bindKeys       = []string{"source", "target", "readonly"}
)

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
	each(m, []string{"readonly", "writable", "masked", "tmpfs"}, func(k string, x any) {
		list := d.paths("filesystem."+k, x)
		switch k {
		case "readonly":
			f.Readonly = list
		case "writable":
			f.Writable = list
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

// implyMount turns the mount namespace on for what needs it, as the format
// says: a PID namespace (its /proc), every mount in [filesystem], and
// [directories] under a chroot, where they are bound in.
func (d *decoder) implyMount() {
	f := &d.s.Filesystem
	if d.s.Namespaces.PID || len(f.Readonly) > 0 || len(f.Writable) > 0 || len(f.Masked) > 0 || len(f.Tmpfs) > 0 ||
		len(f.Bind) > 0 || f.Dev != nil && *f.Dev || f.Root != "/" && d.s.Directories.Any() {
		d.s.Namespaces.Mount = true
	}
}
