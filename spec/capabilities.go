package spec

import (
	"strings"

	"github.com/daemonbox/daemonbox/caps"
)

// [capabilities]: what the daemon drops and keeps. The names are caps's.

var (
	capKeys = []string{"drop", "keep"}
)

func (d *decoder) capabilities(v any) {
	m, ok := d.table("capabilities", v, capKeys)
	if !ok {
		return
	}
	c := &d.s.Capabilities
	if x, ok := m["drop"]; ok {
		c.DropAll, c.Drop = d.capList("capabilities.drop", x)
	}
	if x, ok := m["keep"]; ok {
		c.KeepAll, c.Keep = d.capList("capabilities.keep", x)
	}
	if both := c.Drop & c.Keep; both != 0 {
		d.fail("capabilities.keep", "%s both dropped and kept", strings.Join(both.Names(), ", "))
	}
}

func (d *decoder) capList(key string, v any) (all bool, set caps.Set) {
	names, ok := d.strings(key, v)
	if !ok {
		return false, 0
	}
	for i, name := range names {
		if strings.EqualFold(name, "ALL") {
			all = true
			continue
		}
		n, ok := caps.Number(name)
		if !ok {
			d.failElem(key, i, "unknown capability %q%s", name, didYouMeanPrefixed(name, "CAP_", caps.Names()))
			continue
		}
		set |= 1 << uint(n)
	}
	return all, set
}

// mayKeep reports whether the daemon can end up with capability n: kept by
// name, or not dropped from what daemonbox has.
func (c Capabilities) mayKeep(n int) bool {
	return c.KeepAll || c.Keep.Has(n) || !c.DropAll && !c.Drop.Has(n)
}
