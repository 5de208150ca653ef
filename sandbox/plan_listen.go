package sandbox

import (
	"fmt"

	"github.com/daemonbox/daemonbox/spec"
)

// Socket is one listen socket of the plan ([[fds.listen]]), in the order
// the daemon receives them: the first at fd 3. The process that starts the
// launch opens it (OpenListen) with daemonbox's privileges and in the
// host's network namespace; the steps read only the names and the count.
type Socket struct {
	Name    string
	Network string // one of spec.Net*
	Address string // as the spec gives it, for messages
	Host    string // tcp and udp: an IP literal
	Port    uint16
	Path    string // unix: the socket file
	Systemd string // systemd: the name systemd gave the socket it passed daemonbox
	Mode    uint32 // unix: the file's mode
	UID     int    // unix: the file's owner (a host id); -1 leaves daemonbox's
	GID     int    // unix: the file's group; -1 leaves daemonbox's
}

// listen resolves [[fds.listen]]: a unix socket's owner is looked up in
// the host's files, like [user], since the file is the host's.
func (r *resolver) listen(p *Plan) {
	for i, l := range r.s.FDs.Listen {
		s := Socket{Name: l.Name, Network: l.Network, Address: l.Address, Host: l.Host, Port: l.Port,
			Path: l.Path, Systemd: l.Systemd, Mode: spec.DefaultSocketMode, UID: -1, GID: -1}
		if l.Mode != nil {
			s.Mode = *l.Mode
		}
		key := fmt.Sprintf("fds.listen[%d].owner", i)
		if l.Owner != nil {
			e, found := r.lookup(key, r.h.PasswdFile, *l.Owner)
			s.UID = int(e.id)
			if found && l.Group == nil {
				s.GID = int(e.gid)
			}
		}
		if l.Group != nil {
			e, _ := r.lookup(key, r.h.GroupFile, *l.Group)
			s.GID = int(e.id)
		}
		p.Listen = append(p.Listen, s)
	}
}
