package export

import (
	"fmt"
	"strings"

	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// privatePIDsVersion is the first systemd with PrivatePIDs=.
const privatePIDsVersion = 257

func (g *serviceGen) namespaces() {
	u, p := &g.u, g.p
	has := func(flag uintptr) bool { return p.Unshare&flag != 0 }
	u.set("PrivateNetwork", yes(has(unix.CLONE_NEWNET)))
	u.set("PrivateIPC", yes(has(unix.CLONE_NEWIPC)))
	u.set("ProtectHostname", yes(has(unix.CLONE_NEWUTS)))
	if p.Hostname != "" {
		u.note("namespaces.hostname = %q: systemd cannot name a unit's UTS namespace; the daemon sees the host's name there.", p.Hostname)
	}
	u.set("PrivateMounts", yes(has(unix.CLONE_NEWNS)))
	g.pidNamespace()
	if has(unix.CLONE_NEWCGROUP) {
		u.note("namespaces.cgroup = true: systemd has no directive for a cgroup namespace here; the daemon sees its cgroup's full path in /proc/self/cgroup.")
	}
	if p.UserNS {
		u.set("PrivateUsers", "yes")
		u.note("namespaces.user: systemd maps only root and the unit's user, each to itself; daemonbox's maps (uid_map %s, gid_map %s) cannot be written.",
			describeMaps(p.UIDMap), describeMaps(p.GIDMap))
	}
}

func (g *serviceGen) pidNamespace() {
	u, p := &g.u, g.p
	switch {
	case !p.PIDNS:
		if g.version >= privatePIDsVersion {
			u.set("PrivatePIDs", "no")
		}
	case g.version >= privatePIDsVersion:
		u.set("PrivatePIDs", "yes")
		if p.Init {
			u.note("namespaces.init: under daemonbox, daemonbox is PID 1 and reaps; here the daemon itself is PID 1.")
		}
	default:
		u.note("namespaces.pid = true: PrivatePIDs= needs systemd %d (this unit targets %d; see --systemd-version).", privatePIDsVersion, g.version)
		u.note("Lost here: the daemon sees the host's processes, and can signal and trace those of its uid.")
	}
}

func describeMaps(maps []spec.IDMap) string {
	if len(maps) == 0 {
		return "default"
	}
	parts := make([]string, len(maps))
	for i, m := range maps {
		parts[i] = fmt.Sprintf("%d:%d:%d", m.Inside, m.Outside, m.Count)
	}
	return strings.Join(parts, ",")
}

// mounts writes the root and the plan's mounts. systemd makes them in its
// own order, which differs from daemonbox's only where one path is both
// mounted and made read-only, and there systemd's result is the same.
func (g *serviceGen) mounts() {
	u, p := &g.u, g.p
	if p.Root != "/" {
		u.line("RootDirectory", p.Root)
		u.set("MountAPIVFS", yes(g.has(sandbox.MountProc)))
		if g.has(sandbox.MountProc) {
			u.note("MountAPIVFS=yes stands for the fresh /proc of namespaces.pid; systemd also mounts /sys, /dev and a tmpfs /run in the root.")
		}
	}
	g.directories()
	masked := false
	for _, m := range p.Mounts {
		if g.directoryBind(m) {
			continue // StateDirectory= and its kin make their directories writable themselves
		}
		g.mount(m)
		masked = masked || m.Kind == sandbox.MountMasked
	}
	if masked {
		u.note("masked paths: daemonbox lays an empty read-only directory or /dev/null over them; InaccessiblePaths= denies every access (mode 000), so a read fails here where it finds nothing there.")
	}
	if p.Unshare&unix.CLONE_NEWNS != 0 {
		u.note("The read-only /sys and the /proc hardening above are daemonbox's own, made with every mount namespace.")
	}
}

func (g *serviceGen) mount(m sandbox.Mount) {
	u := &g.u
	opt := ""
	if m.Optional {
		opt = "-"
	}
	switch m.Kind {
	case sandbox.MountBind:
		if m.InRoot {
			g.pathList("ReadWritePaths", "", m.Target)
			return
		}
		g.pathList(map[bool]string{false: "BindPaths", true: "BindReadOnlyPaths"}[m.Readonly], ":", m.Source, ":", m.Target)
	case sandbox.MountTmpfs:
		g.pathList("TemporaryFileSystem", ":", m.Target, ":mode=1777,nosuid,nodev")
	case sandbox.MountDev:
		u.set("PrivateDevices", "yes")
		u.note("filesystem.dev: systemd's private /dev also has pts, shm, mqueue and hugepages; it drops CAP_MKNOD and CAP_SYS_RAWIO and refuses @raw-io too.")
	case sandbox.MountProc:
		// MountAPIVFS=, with the root; without one, the PID namespace decides.
	case sandbox.MountReadonly:
		if !g.readonlyBind(m.Target) {
			g.pathList("ReadOnlyPaths", "", opt+m.Target)
		}
	case sandbox.MountMasked:
		g.pathList("InaccessiblePaths", "", opt+m.Target)
	default:
		u.fail(fmt.Errorf("export systemd: mount %s of kind %q has no systemd directive", m.Target, m.Kind))
	}
}

// directories writes [directories] as systemd's StateDirectory= and its
// kin, which make, own and (under a read-only or private root) bind them
// as daemonbox does, and set the same variables.
func (g *serviceGen) directories() {
	d := g.s.Directories
	for _, k := range []struct {
		key   string
		names []string
	}{{"RuntimeDirectory", d.Runtime}, {"StateDirectory", d.State}, {"CacheDirectory", d.Cache}, {"LogsDirectory", d.Logs}} {
		if len(k.names) == 0 {
			continue
		}
		var parts []string
		for i, n := range k.names {
			if i > 0 {
				parts = append(parts, " ")
			}
			parts = append(parts, n)
		}
		g.pathList(k.key, "", parts...)
		g.u.set(k.key+"Mode", fmt.Sprintf("%04o", d.Mode))
	}
}

// directoryBind reports whether m is the bind that makes a directory of
// [directories] writable, which systemd's own directives stand for.
func (g *serviceGen) directoryBind(m sandbox.Mount) bool {
	for _, d := range g.p.Directories {
		if m.Kind == sandbox.MountBind && m.Target == d.Path() && m.Source == d.Path() {
			return true
		}
	}
	return false
}

// pathList writes key with parts joined: the paths quoted as systemdPath
// does, and the literal separators and options (odd positions) as they are.
func (g *serviceGen) pathList(key, seps string, parts ...string) {
	var b strings.Builder
	for i, part := range parts {
		if i%2 == 1 {
			b.WriteString(part)
			continue
		}
		q, err := systemdPath(key, part, seps)
		if err != nil {
			g.u.fail(err)
			return
		}
		b.WriteString(q)
	}
	g.u.set(key, b.String())
}

// readonlyBind reports whether target is a read-only bind's, which
// BindReadOnlyPaths= already made read-only.
func (g *serviceGen) readonlyBind(target string) bool {
	for _, m := range g.p.Mounts {
		if m.Kind == sandbox.MountBind && m.Readonly && m.Target == target {
			return true
		}
	}
	return false
}

func (g *serviceGen) has(kind sandbox.MountKind) bool {
	for _, m := range g.p.Mounts {
		if m.Kind == kind {
			return true
		}
	}
	return false
}
