package spec

// [landlock]: the file and TCP access the kernel allows the daemon, whatever
// else it finds. Paths are inside the root.

var (
	landlockKeys = []string{"read", "write", "execute", "bind_tcp", "connect_tcp", "mode"}
)

// LandlockMode is landlock.mode.
type LandlockMode string

// The modes.
const (
	LandlockRequired   LandlockMode = "required"    // fail before exec when the kernel cannot enforce every rule
	LandlockBestEffort LandlockMode = "best-effort" // enforce what the kernel can; explain says what is not
)

// Landlock is [landlock]. With the table present, the file system is
// restricted to Read, Write and Execute; TCP binds and connects are
// restricted only when their key is present (an empty list refuses all).
type Landlock struct {
	Set             bool
	Read            []string
	Write           []string
	Execute         []string
	BindTCP         []uint16
	ConnectTCP      []uint16
	RestrictBind    bool
	RestrictConnect bool
	Mode            LandlockMode
}

func (d *decoder) landlock(v any) {
	m, ok := d.table("landlock", v, landlockKeys)
	if !ok {
		return
	}
	l := &d.s.Landlock
	l.Set = true
	each(m, landlockKeys, func(k string, x any) {
		key := "landlock." + k
		switch k {
		case "read":
			l.Read = d.paths(key, x)
		case "write":
			l.Write = d.paths(key, x)
		case "execute":
			l.Execute = d.paths(key, x)
		case "bind_tcp":
			l.BindTCP, l.RestrictBind = d.ports(key, x), true
		case "connect_tcp":
			l.ConnectTCP, l.RestrictConnect = d.ports(key, x), true
		case "mode":
			if s, ok := d.choice(key, x, string(LandlockRequired), string(LandlockBestEffort)); ok {
				l.Mode = LandlockMode(s)
			}
		}
	})
}

func (d *decoder) ports(key string, v any) []uint16 {
	var out []uint16
	d.array(key, v, func(i int, e any) {
		n, ok := e.(int64)
		if !ok || n < 0 || n > 65535 {
			d.failElem(key, i, "element %d: expected a port 0 to 65535, got %s", i, describe(e))
			return
		}
		out = append(out, uint16(n))
	})
	return out
}
