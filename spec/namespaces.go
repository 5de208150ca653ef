package spec

import (
	"fmt"
	"strconv"
)

// [namespaces]: which namespaces the daemon gets, and a user namespace's maps.

var (
	namespaceKeys = []string{"pid", "init", "mount", "network", "ipc", "uts", "hostname", "cgroup", "user", "uid_map", "gid_map"}
	idMapKeys     = []string{"inside", "outside", "count"}
)

func (d *decoder) namespaces(v any) {
	m, ok := d.table("namespaces", v, namespaceKeys)
	if !ok {
		return
	}
	n := &d.s.Namespaces
	flags := map[string]*bool{"pid": &n.PID, "mount": &n.Mount, "network": &n.Network,
		"ipc": &n.IPC, "uts": &n.UTS, "cgroup": &n.Cgroup, "user": &n.User}
	each(m, namespaceKeys, func(k string, x any) {
		key := "namespaces." + k
		switch k {
		case "hostname":
			n.Hostname, _ = d.str(key, x)
		case "uid_map", "gid_map":
			maps := d.idMaps(key, x)
			if k == "uid_map" {
				n.UIDMap = maps
			} else {
				n.GIDMap = maps
			}
		case "init":
			d.init(n, x)
		default:
			if b, ok := d.boolean(key, x); ok {
				*flags[k] = b
			}
		}
	})
	if n.Hostname != "" && !n.UTS {
		d.fail("namespaces.hostname", "hostname requires uts = true")
	}
	if _, set := m["init"]; set && !n.PID {
		d.fail("namespaces.init", "init requires pid = true")
	}
	for _, k := range []string{"uid_map", "gid_map"} {
		if _, set := m[k]; set && !n.User {
			d.fail("namespaces."+k, "%s requires user = true", k)
		}
	}
}

// init reads namespaces.init: true (daemonbox picks PID 1), false (the
// daemon is PID 1), or the absolute host path of the PID 1 program.
func (d *decoder) init(n *Namespaces, x any) {
	const key = "namespaces.init"
	switch v := x.(type) {
	case bool:
		n.NoInit = !v
	case string:
		n.InitPath, _ = d.absPath(key, v)
	default:
		d.fail(key, "expected true, false or the absolute path of a PID 1 program, got %s", describe(x))
	}
}

func (d *decoder) idMaps(key string, v any) []IDMap {
	var out []IDMap
	d.array(key, v, func(i int, e any) {
		k := key + "[" + strconv.Itoa(i) + "]"
		m, ok := d.table(k, e, idMapKeys)
		if !ok {
			return
		}
		var vals [3]uint32
		whole := true
		for j, name := range idMapKeys {
			x, ok := m[name]
			if !ok {
				d.fail(k, "%s is required", name)
				whole = false
				continue
			}
			n, ok := d.integer(k+"."+name, x, 0, MaxID)
			vals[j], whole = uint32(n), whole && ok
		}
		line := IDMap{Inside: vals[0], Outside: vals[1], Count: vals[2]}
		if problem := badMapLine(out, line); whole && problem != "" {
			d.failElem(key, i, "%s", problem)
		}
		out = append(out, line)
	})
	if len(out) > maxMapLines {
		d.fail(key, "%d lines; the kernel takes at most %d", len(out), maxMapLines)
	}
	return out
}

// maxMapLines is the kernel's limit on the lines of uid_map and gid_map.
const maxMapLines = 340

// badMapLine says what is wrong with e after the lines before it: the
// kernel refuses a map whose ranges overlap inside or outside.
func badMapLine(before []IDMap, e IDMap) string {
	if e.Count == 0 {
		return "count must be at least 1"
	}
	if uint64(e.Inside)+uint64(e.Count)-1 > MaxID || uint64(e.Outside)+uint64(e.Count)-1 > MaxID {
		return fmt.Sprintf("the range runs past the largest id, %d", uint64(MaxID))
	}
	for _, o := range before {
		if overlap(o.Inside, o.Count, e.Inside, e.Count) {
			return fmt.Sprintf("inside ids %d-%d overlap an earlier line", e.Inside, e.Inside+e.Count-1)
		}
		if overlap(o.Outside, o.Count, e.Outside, e.Count) {
			return fmt.Sprintf("outside ids %d-%d overlap an earlier line", e.Outside, e.Outside+e.Count-1)
		}
	}
	return ""
}

func overlap(a, n, b, m uint32) bool {
	return uint64(a) < uint64(b)+uint64(m) && uint64(b) < uint64(a)+uint64(n)
}

// Contains reports whether id is one of the inside ids of the map.
func Contains(maps []IDMap, id uint32) bool {
	_, ok := Outside(maps, id)
	return ok
}

// Outside is the id outside the namespace that inside id maps to.
func Outside(maps []IDMap, id uint32) (uint32, bool) {
	for _, m := range maps {
		if id >= m.Inside && uint64(id) < uint64(m.Inside)+uint64(m.Count) {
			return m.Outside + (id - m.Inside), true
		}
	}
	return 0, false
}
