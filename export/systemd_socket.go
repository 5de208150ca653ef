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
		name := base + ".socket"
		if len(listen) > 1 {
			suffix := l.Name
			if suffix == "" {
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
	directive, addr, err := listenAddress(key, l.Address)
	if err != nil {
		return "", err
	}
	var u unitText
	u.note("Exported by `daemonbox export --format systemd`: %s of %s.", key, service)
	u.section("Unit")
	u.set("Description", strings.ReplaceAll(fmt.Sprintf("%s, socket %q", service, l.Name), "%", "%%"))
	u.section("Socket")
	u.line(directive, addr)
	if l.Name != "" {
		u.line("FileDescriptorName", l.Name)
	}
	u.set("Service", service)
	u.section("Install")
	u.set("WantedBy", "sockets.target")
	return u.b.String(), u.err
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
