package spec

import (
	"strconv"
	"strings"
)

// [user]: the daemon's user, group and supplementary groups.

var (
	userKeys = []string{"user", "group", "groups"}
)

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
