package export

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/daemonbox/daemonbox/spec"
)

// socketUnits makes a socket unit for each [[fds.listen]] entry, for the
// service unit named service: BASE.socket when there is one, else
// BASE-NAME.socket (BASE-N.socket for an entry without a name).
func socketUnits(s *spec.Spec, base, service string) ([]SystemdUnit, error) {
	listen := s.FDs.Listen
	var out []SystemdUnit
	for i, l := range listen {
		if l.Network == spec.NetSystemd {
			continue // the operator's own socket unit passes it: see systemdSocketNotes
		}
		name := base + ".socket"
		if len(listen) > 1 {
			suffix := l.Name
			if !unitNameText(suffix) { // a name is printable ASCII, which a unit name is not always
				suffix = strconv.Itoa(i)
			}
			name = base + "-" + suffix + ".socket"
		}
		text, err := socketUnit(l, i, service)
		if err != nil {
			return nil, err
		}
		out = append(out, SystemdUnit{Name: name, Text: text})
	}
	return out, nil
}

func socketUnit(l spec.Listen, i int, service string) (string, error) {
	key := fmt.Sprintf("fds.listen[%d]", i)
	var u unitText
	u.note("Exported by `daemonbox export --format systemd`: %s of %s.", key, service)
	u.section("Unit")
	u.set("Description", strings.ReplaceAll(fmt.Sprintf("%s, socket %q", service, l.Name), "%", "%%"))
	u.section("Socket")
	if err := listenLines(&u, key, l); err != nil {
		return "", err
	}
	if l.Name != "" {
		u.line("FileDescriptorName", l.Name)
	}
	u.set("Service", service)
	u.section("Install")
	u.set("WantedBy", "sockets.target")
	return u.b.String(), u.err
}

// listenLines writes the Listen*= line of l and what goes with it: IPv6
// only for tcp6 and udp6, the file's mode and owner for unix.
func listenLines(u *unitText, key string, l spec.Listen) error {
	if l.Network == "" { // not parsed: the address alone
		directive, addr, err := listenAddress(key, l.Address)
		if err == nil {
			u.line(directive, addr)
		}
		return err
	}
	inet := l.Host + ":" + strconv.Itoa(int(l.Port))
	if strings.Contains(l.Host, ":") {
		inet = "[" + l.Host + "]:" + strconv.Itoa(int(l.Port)) // as net.JoinHostPort, which would link net into daemonbox
	}
	switch l.Network {
	case spec.NetTCP, spec.NetTCP6:
		u.line("ListenStream", inet)
	case spec.NetUDP, spec.NetUDP6:
		u.line("ListenDatagram", inet)
	case spec.NetUnix:
		u.line("ListenStream", l.Path)
		mode := uint32(spec.DefaultSocketMode)
		if l.Mode != nil {
			mode = *l.Mode
		}
		u.set("SocketMode", fmt.Sprintf("%04o", mode))
		if l.Owner != nil {
			u.set("SocketUser", l.Owner.String())
		}
		if l.Group != nil {
			u.set("SocketGroup", l.Group.String())
		}
	default:
		return fmt.Errorf("export systemd: %s %q: no socket unit for %s", key, l.Address, l.Network)
	}
	switch {
	case l.Network == spec.NetTCP6 || l.Network == spec.NetUDP6:
		u.set("BindIPv6Only", "ipv6-only")
	case strings.Contains(l.Host, ":"): // tcp:// or udp:// on an IPv6 address: daemonbox takes IPv4 too, whatever net.ipv6.bindv6only says
		u.set("BindIPv6Only", "both")
	}
	return nil
}

// listenAddress turns a spec address into a socket unit's directive and
// value: tcp:// and tcp6:// are streams, udp:// and udp6:// datagrams,
// unix:///path a stream socket at path.
func listenAddress(key, address string) (directive, value string, err error) {
	scheme, rest, ok := strings.Cut(address, "://")
	if !ok || rest == "" {
		return "", "", fmt.Errorf("export systemd: %s %q: expected scheme://address", key, address)
	}
	switch scheme {
	case "tcp", "tcp6":
		return "ListenStream", rest, nil
	case "udp", "udp6":
		return "ListenDatagram", rest, nil
	case "unix":
		return "ListenStream", rest, nil
	}
	return "", "", fmt.Errorf("export systemd: %s %q: no socket unit for scheme %q", key, address, scheme)
}

// systemdSocketNotes says, for each listen entry that takes a socket systemd
// passed daemonbox, that the exported service gets it from the operator's
// own socket unit, under the name that unit gives it.
func systemdSocketNotes(u *unitText, s *spec.Spec) {
	for i, l := range s.FDs.Listen {
		if l.Network == spec.NetSystemd {
			u.note("fds.listen[%d] %q takes systemd's socket %q: add Sockets= for the socket unit that has FileDescriptorName=%s; the daemon then sees that name, not %q.", i, l.Name, l.Systemd, l.Systemd, l.Name)
		}
	}
}
