package sandbox

import (
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// userNamespace resolves namespaces.user: the maps the supervisor writes
// when it clones the init stage, and, for a launch without host privilege,
// what the kernel will refuse it, so that such a spec fails here and not
// half-way through the launch.
func (r *resolver) userNamespace(p *Plan) {
	n := r.s.Namespaces
	if !n.User {
		return
	}
	p.UserNS = true
	// Without these, the kernel takes only a one-line map of daemonbox's
	// own ids, and a gid_map only once setgroups is denied (P15).
	p.Rootless = !r.h.Caps.Effective.Has(unix.CAP_SETUID) || !r.h.Caps.Effective.Has(unix.CAP_SETGID)
	r.userNSEnabled(p)
	p.UIDMap, p.GIDMap = n.UIDMap, n.GIDMap
	if p.UIDMap == nil {
		p.UIDMap = r.defaultMap(p, "namespaces.uid_map", []uint32{p.UID}, r.h.Euid)
	}
	if p.GIDMap == nil {
		p.GIDMap = r.defaultMap(p, "namespaces.gid_map", append([]uint32{p.GID}, p.Groups...), r.h.Egid)
	}
	r.mapped(p)
	if p.Rootless {
		r.rootlessLimits(p)
	}
	// The init stage writes it from inside the namespace, even when the
	// supervisor is root.
	if p.OOMScoreAdj != nil && *p.OOMScoreAdj < 0 {
		r.fail("process.oom_score_adj", "a negative value needs CAP_SYS_RESOURCE on the host, which a launch into a user namespace does not have")
	}
}

// defaultMap maps the daemon's ids. Unprivileged, the kernel allows one
// line: the caller's own id (own) as the daemon's. With privilege, each of
// the daemon's ids maps to itself, so the daemon is on the host who the
// spec says and nothing maps to host uid 0 unless uid_map asks (P15).
func (r *resolver) defaultMap(p *Plan, key string, ids []uint32, own uint32) []spec.IDMap {
	if p.Rootless {
		return []spec.IDMap{{Inside: ids[0], Outside: own, Count: 1}}
	}
	if key == "namespaces.uid_map" && ids[0] == 0 {
		r.fail(key, "the daemon runs as uid 0, and the default map (each id to itself) would put host uid 0 in the namespace; set user.user, or map uid 0 to an unprivileged host uid with uid_map")
	}
	var out []spec.IDMap
	for _, id := range ids {
		if !spec.Contains(out, id) {
			out = append(out, spec.IDMap{Inside: id, Outside: id, Count: 1})
		}
	}
	return out
}

// mapped requires the daemon's uid, gid and groups to exist in the
// namespace: setresuid and setresgid refuse an unmapped id.
func (r *resolver) mapped(p *Plan) {
	if !spec.Contains(p.UIDMap, p.UID) {
		r.fail("namespaces.uid_map", "the daemon's uid %d is not mapped", p.UID)
	}
	if !spec.Contains(p.GIDMap, p.GID) {
		r.fail("namespaces.gid_map", "the daemon's gid %d is not mapped", p.GID)
	}
	for _, g := range p.Groups {
		if !spec.Contains(p.GIDMap, g) {
			r.fail("namespaces.gid_map", "the daemon's supplementary group %d is not mapped", g)
		}
	}
}

// rootlessLimits refuses what needs host privilege that an unprivileged
// launch does not have.
func (r *resolver) rootlessLimits(p *Plan) {
	own := func(key, kind string, maps []spec.IDMap, id uint32) {
		if len(maps) != 1 || maps[0].Outside != id || maps[0].Count != 1 {
			r.fail(key, "unprivileged, daemonbox can map only its own %s %d, on one line with count = 1; a wider map needs host root", kind, id)
		}
	}
	own("namespaces.uid_map", "uid", p.UIDMap, r.h.Euid)
	own("namespaces.gid_map", "gid", p.GIDMap, r.h.Egid)
	if len(p.Groups) > 0 {
		r.fail("user.groups", "unprivileged, daemonbox cannot set supplementary groups: the kernel denies setgroups in the user namespace (it would let the daemon drop a group that denies it access)")
	}
}

// userNSEnabled reads the host's switches for user namespaces, so that a
// host that forbids them fails here with the reason, not at clone with
// EPERM or ENOSPC.
func (r *resolver) userNSEnabled(p *Plan) {
	if r.h.Sysctl == nil {
		return
	}
	if v, err := r.h.Sysctl("user/max_user_namespaces"); err == nil && v == "0" {
		r.fail("namespaces.user", "this host allows no user namespaces (sysctl user.max_user_namespaces = 0)")
	}
	if v, err := r.h.Sysctl("kernel/unprivileged_userns_clone"); err == nil && v == "0" && p.Rootless {
		r.fail("namespaces.user", "this host allows user namespaces only to root (sysctl kernel.unprivileged_userns_clone = 0)")
	}
}

// hostCreds are the daemon's ids as the host sees them, through the maps.
func hostCreds(p *Launch) creds {
	c := creds{uid: p.UID, gid: p.GID, groups: p.Groups}
	if !p.UserNS {
		return c
	}
	c.uid, _ = spec.Outside(p.UIDMap, p.UID)
	c.gid, _ = spec.Outside(p.GIDMap, p.GID)
	c.groups = nil
	for _, g := range p.Groups {
		h, _ := spec.Outside(p.GIDMap, g)
		c.groups = append(c.groups, h)
	}
	return c
}

type creds struct {
	uid, gid uint32
	groups   []uint32
}

// HostUID is the host uid the daemon runs as: its uid, or in a user
// namespace what the map makes of it (the overflow uid, 65534, when the map
// leaves it out).
func (p *Launch) HostUID() uint32 {
	if !p.UserNS {
		return p.UID
	}
	for _, m := range p.UIDMap {
		if p.UID >= m.Inside && p.UID-m.Inside < m.Count {
			return m.Outside + (p.UID - m.Inside)
		}
	}
	return 65534
}

// mapsHostRoot reports whether a user namespace's map gives any id of the
// namespace the host's uid 0: whoever holds it owns what host root owns.
func (p *Launch) mapsHostRoot() bool {
	for _, m := range p.UIDMap {
		if p.UserNS && m.Outside == 0 && m.Count > 0 {
			return true
		}
	}
	return false
}
