package spec

import (
	"path"
	"strconv"
	"strings"

	"github.com/daemonbox/daemonbox/internal/ipaddr"
)

// [[fds.listen]]: sockets handed to the daemon as systemd's socket
// activation does (sd_listen_fds(3)).

// listen reads the array of tables; names must be unique, since the daemon
// tells its sockets apart by LISTEN_FDNAMES.
func (d *decoder) listen(key string, v any) []Listen {
	var out []Listen
	names := map[string]bool{}
	d.array(key, v, func(i int, e any) {
		k := key + "[" + strconv.Itoa(i) + "]"
		m, ok := d.table(k, e, listenKeys)
		if !ok {
			return
		}
		l := d.listenEntry(k, m)
		if l.Name != "" && names[l.Name] {
			d.fail(k+".name", "%q is the name of an earlier socket: names must be unique", l.Name)
		}
		names[l.Name] = true
		out = append(out, l)
	})
	return out
}

func (d *decoder) listenEntry(k string, m map[string]any) Listen {
	var l Listen
	if x, ok := m["name"]; !ok {
		d.fail(k, "name is required (the daemon finds it in LISTEN_FDNAMES)")
	} else if n, ok := d.str(k+".name", x); ok {
		if problem := fdNameProblem(n); problem != "" {
			d.fail(k+".name", "%q %s", n, problem)
		}
		l.Name = n
	}
	if x, ok := m["address"]; !ok {
		d.fail(k, "address is required")
	} else if a, ok := d.str(k+".address", x); ok {
		l.Address = a
		if problem := parseAddress(&l); problem != "" {
			d.fail(k+".address", "%q: %s", a, problem)
		}
	}
	for _, opt := range []string{"mode", "owner"} {
		if x, ok := m[opt]; ok {
			if l.Network != NetUnix && l.Network != "" {
				d.fail(k+"."+opt, "%s applies to a unix:// socket only", opt)
				continue
			}
			d.socketFileOption(k+"."+opt, opt, x, &l)
		}
	}
	return l
}

func (d *decoder) socketFileOption(key, opt string, x any, l *Listen) {
	if opt == "mode" {
		if n, ok := d.octal(key, x, "mode"); ok {
			l.Mode = &n
		}
		return
	}
	if s, ok := x.(string); ok {
		user, group, hasGroup := strings.Cut(s, ":")
		l.Owner = d.id(key, idValue(user))
		if hasGroup {
			l.Group = d.id(key, idValue(group))
		}
		return
	}
	l.Owner = d.id(key, x)
}

// idValue reads a part of "user:group": digits are a number.
func idValue(s string) any {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && s != "" && s[0] != '+' && s[0] != '-' {
		return n
	}
	return s
}

// fdNameProblem applies systemd's rule for LISTEN_FDNAMES entries: printable
// ASCII, no ':' (the separator), at most 255 characters.
func fdNameProblem(n string) string {
	if n == "" || len(n) > 255 {
		return "is not a valid socket name: 1 to 255 characters"
	}
	for _, c := range []byte(n) {
		if c < 0x20 || c > 0x7e || c == ':' {
			return "is not a valid socket name: printable ASCII without ':' (LISTEN_FDNAMES separates names with ':')"
		}
	}
	return ""
}

// parseAddress fills the parsed fields of l from l.Address and returns
// what is wrong with it, or "".
func parseAddress(l *Listen) string {
	network, rest, ok := strings.Cut(l.Address, "://")
	if strings.HasPrefix(l.Address, NetSystemd+":") {
		network, rest, ok = NetSystemd, strings.TrimPrefix(l.Address, NetSystemd+":"), true
	}
	if !ok {
		return "expected tcp://HOST:PORT, tcp6://[HOST]:PORT, udp://, udp6://, unix:///PATH or systemd:NAME"
	}
	l.Network = network
	switch network {
	case NetTCP, NetTCP6, NetUDP, NetUDP6:
		return parseHostPort(l, rest)
	case NetUnix:
		return parseUnixPath(l, rest)
	case NetSystemd:
		l.Systemd = rest
		if p := fdNameProblem(rest); p != "" {
			return "the name systemd gave the socket " + strings.TrimPrefix(p, "is not a valid socket name: ")
		}
		return ""
	}
	l.Network = ""
	return "unknown kind " + strconv.Quote(network) + ": expected tcp, tcp6, udp, udp6, unix or systemd"
}

// parseHostPort reads an IP literal and a port: tcp:// and udp:// take an
// IPv4 address, or an IPv6 one in brackets; tcp6:// and udp6:// only IPv6.
func parseHostPort(l *Listen, rest string) string {
	addr, port, err := ipaddr.ParseAddrPort(rest)
	if err != nil {
		host, p, ok := strings.Cut(rest, ":")
		if !ok || host != "" || strings.Contains(p, ":") {
			return "expected HOST:PORT with an IP address as HOST ([::1]:80 for IPv6, :80 for any), no name"
		}
		if addr, port, err = ipaddr.ParseAddrPort("0.0.0.0:" + p); err != nil {
			return "the port is not a number from 1 to 65535"
		}
		if l.Network == NetTCP6 || l.Network == NetUDP6 {
			addr = ipaddr.IPv6Unspecified()
		}
	}
	if port == 0 {
		return "port 0 would let the kernel pick one that no client knows: give a port from 1 to 65535"
	}
	if addr.Zone() != "" {
		return "a zone (%" + addr.Zone() + ") is not supported"
	}
	if (l.Network == NetTCP6 || l.Network == NetUDP6) && !addr.Is6() {
		return l.Network + ":// takes an IPv6 address in brackets ([::]:PORT)"
	}
	if (l.Network == NetTCP6 || l.Network == NetUDP6) && addr.Is4In6() {
		// Its socket is IPv6-only, and the kernel refuses to bind one to
		// an IPv4 address (EINVAL).
		return "an IPv4-mapped address needs IPv4, which a " + l.Network + ":// socket does not take: write " +
			strings.TrimSuffix(l.Network, "6") + "://[" + addr.String() + "]:PORT"
	}
	l.Host, l.Port = addr.String(), port
	return ""
}

// parseUnixPath takes unix:///absolute/path, canonical, short enough for
// sockaddr_un.
func parseUnixPath(l *Listen, p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "expected unix:///ABSOLUTE/PATH (three slashes)"
	case path.Clean(p) != p:
		return "the path is not canonical (write " + strconv.Quote(path.Clean(p)) + ")"
	case len(p) > 107:
		return "the path is longer than the kernel's 107 bytes for a unix socket"
	case p == "/":
		return "the path names no file"
	}
	l.Path = p
	return ""
}
