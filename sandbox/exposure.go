package sandbox

import (
	"fmt"
	"math"
	"strings"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/hostpath"
	"golang.org/x/sys/unix"
)

// Exposure is one row of explain's hardening table: what could be confined,
// how far the plan confines it, and how much that matters.
type Exposure struct {
	Item    string
	State   string
	Weight  int     // systemd-analyze security's weight where it has the item
	Badness float64 // 0: fully confined .. 1: not at all
	Why     string
}

// ExposureScore is the weighted mean badness on systemd-analyze security's
// scale: 0.0 (nothing exposed) to 10.0 (everything), one decimal.
func ExposureScore(rows []Exposure) float64 {
	var sum, weights float64
	for _, r := range rows {
		sum += r.Badness * float64(r.Weight)
		weights += float64(r.Weight)
	}
	if weights == 0 {
		return 10
	}
	return math.Round(100*sum/weights) / 10
}

// ExposureLabel names a score as systemd-analyze security does.
func ExposureLabel(score float64) string {
	for _, l := range []struct {
		from float64
		name string
	}{{10, "DANGEROUS"}, {9, "UNSAFE"}, {7.5, "EXPOSED"}, {5, "MEDIUM"}, {1, "OK"}, {0.1, "SAFE"}} {
		if score >= l.from {
			return l.name
		}
	}
	return "PERFECT"
}

// Exposures rates the plan, item by item. The items are those of
// systemd-analyze security that daemonbox has a key for, with its weights,
// plus daemonbox's own (Landlock, cgroup limits, core dumps). What daemonbox
// cannot do (address families, W^X memory, realtime) is left out of the
// table rather than counted against every spec alike; the README says so.
func (p *Plan) Exposures() []Exposure {
	var rows []Exposure
	for _, part := range []func() []Exposure{p.identityExposure, p.capExposure, p.namespaceExposure,
		p.fileExposure, p.filterExposure, p.limitExposure} {
		rows = append(rows, part()...)
	}
	return rows
}

func yesNo(confined bool, yes, no string) (string, float64) {
	if confined {
		return yes, 0
	}
	return no, 1
}

func row(item string, weight int, confined bool, yes, no, why string) Exposure {
	state, bad := yesNo(confined, yes, no)
	return Exposure{Item: item, State: state, Weight: weight, Badness: bad, Why: why}
}

func (p *Plan) identityExposure() []Exposure {
	user := Exposure{Item: "user", Weight: 2000, Why: "uid 0 owns most of the system's files and is trusted by much of the kernel"}
	switch host := p.HostUID(); {
	case host == 0 && p.UserNS:
		user.State, user.Badness = fmt.Sprintf("uid %d, the host's uid 0 through the map", p.UID), 1
	case host == 0:
		user.State, user.Badness = "uid 0 (root)", 1
	case p.UID == 0:
		user.State, user.Badness = fmt.Sprintf("uid 0 of a user namespace (host uid %d)", host), 0.3
	default:
		user.State = fmt.Sprintf("uid %d", p.UID)
	}
	core := !p.coreDumps()
	return []Exposure{user,
		row("groups", 200, len(p.Groups) == 0 || p.Rootless, "none", "supplementary groups", "each group is more files the daemon may open"),
		row("no_new_privs", 1000, p.NoNewPrivs, "set", "not set", "a setuid program or file capability would raise the daemon's privileges"),
		row("umask", 100, p.Umask&0o004 != 0, fmt.Sprintf("%04o", p.Umask), fmt.Sprintf("%04o: new files world-readable", p.Umask), "files the daemon creates should not be readable by every user"),
		row("core dumps", 200, core, "off (core 0)", "allowed", "a core file holds the daemon's memory, secrets included"),
	}
}

func (p *Plan) coreDumps() bool {
	for _, l := range p.Rlimits {
		if l.Resource == unix.RLIMIT_CORE {
			return l.Hard != 0
		}
	}
	return true
}

// capClasses group capabilities as systemd-analyze security does.
var capClasses = []struct {
	name   string
	weight int
	set    caps.Set
	why    string
}{
	{"CAP_SYS_ADMIN", 1500, caps.Of(unix.CAP_SYS_ADMIN), "mounts, namespaces and most of the kernel's administration"},
	{"CAP_SET(UID|GID|PCAP)", 1500, caps.Of(unix.CAP_SETUID, unix.CAP_SETGID, unix.CAP_SETPCAP), "becomes any user or group"},
	{"CAP_SYS_PTRACE", 1500, caps.Of(unix.CAP_SYS_PTRACE), "reads and changes other processes' memory"},
	{"CAP_(DAC_*|FOWNER|IPC_OWNER)", 1500, caps.Of(unix.CAP_DAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH, unix.CAP_FOWNER, unix.CAP_IPC_OWNER), "overrides file and IPC permission checks"},
	{"CAP_(CHOWN|FSETID|SETFCAP)", 1000, caps.Of(unix.CAP_CHOWN, unix.CAP_FSETID, unix.CAP_SETFCAP), "changes file owners, modes and capabilities"},
	{"CAP_SYS_(MODULE|RAWIO)", 1500, caps.Of(unix.CAP_SYS_MODULE, unix.CAP_SYS_RAWIO), "loads kernel code or reads raw devices"},
	{"CAP_NET_ADMIN", 1000, caps.Of(unix.CAP_NET_ADMIN), "reconfigures interfaces, routes and firewalls"},
	{"CAP_NET_(BIND_SERVICE|BROADCAST|RAW)", 500, caps.Of(unix.CAP_NET_BIND_SERVICE, unix.CAP_NET_BROADCAST, unix.CAP_NET_RAW), "privileged ports and raw packets"},
	{"CAP_KILL", 500, caps.Of(unix.CAP_KILL), "signals any process"},
	{"CAP_(SYS_CHROOT|MKNOD)", 500, caps.Of(unix.CAP_SYS_CHROOT, unix.CAP_MKNOD), "chroot and device nodes: the pieces of a root escape"},
}

func (p *Plan) capExposure() []Exposure {
	kept := p.Caps.Sets().Bounding
	rows := make([]Exposure, 0, len(capClasses)+2)
	classed := caps.Set(0)
	for _, c := range capClasses {
		classed |= c.set
		rows = append(rows, p.capRow(c.name, c.weight, kept&c.set, c.why))
	}
	rows = append(rows, p.capRow("other capabilities", 1000, kept&^classed, "clock, reboot, BPF, audit, MAC, logs and the rest"))
	ambient := row("ambient capabilities", 500, !p.Caps.Ambient || p.Caps.Keep == 0, "none", "kept across exec", "capabilities a non-root daemon holds without a file capability")
	return append(rows, ambient)
}

// capRow rates a class of capabilities in the daemon's bounding set. In a
// user namespace they act on the namespace's own resources: half as bad.
func (p *Plan) capRow(name string, weight int, have caps.Set, why string) Exposure {
	r := Exposure{Item: name, Weight: weight, Why: why, State: "dropped"}
	if have != 0 {
		r.State, r.Badness = "kept: "+strings.Join(have.Names(), " "), 1
		if p.UserNS {
			r.State, r.Badness = r.State+" (in its user namespace)", 0.5
		}
	}
	return r
}

func (p *Plan) namespaceExposure() []Exposure {
	has := func(flag uintptr) bool { return p.Unshare&flag != 0 }
	private := "private"
	return []Exposure{
		row("namespace network", 2500, has(unix.CLONE_NEWNET), private, "the host's", "every interface, address and listening socket of the host"),
		row("namespace pid", 1000, p.PIDNS, private, "the host's", "the host's processes: their command lines, and signals to those of its uid"),
		row("namespace user", 1000, p.UserNS && !p.mapsHostRoot(), private+" (ids mapped)", "the host's, or host root mapped", "ids mapped away from the host's: its root is no root outside"),
		row("namespace mount", 1000, has(unix.CLONE_NEWNS), private, "the host's", "mounts of its own, and the host's never changed"),
		row("namespace ipc", 300, has(unix.CLONE_NEWIPC), private, "the host's", "System V and POSIX IPC objects of other services"),
		row("namespace cgroup", 300, has(unix.CLONE_NEWCGROUP), private, "the host's", "the host's cgroup tree, seen in /proc/self/cgroup"),
		row("namespace uts", 100, has(unix.CLONE_NEWUTS), private, "the host's", "the host name"),
	}
}

func (p *Plan) fileExposure() []Exposure {
	mountNS := p.Unshare&unix.CLONE_NEWNS != 0
	landlock := p.Landlock != nil && p.LandlockABI >= 1
	tcp := landlock && p.LandlockABI >= 4 && p.Landlock.RestrictBind && p.Landlock.RestrictConnect
	rows := []Exposure{
		p.rootRow(),
		p.readonlyRow(),
		row("/dev", 1000, p.private("/dev", MountDev), "private", "the host's", "the host's device nodes"),
		row("/tmp", 500, p.private("/tmp", MountTmpfs), "private", "the host's", "other services' temporary files, and links planted for them"),
		row("/sys", 1000, mountNS, "read-only", "writable where permissions allow", "kernel tunables and devices"),
		row("landlock files", 1000, landlock, "restricted to the rules", "not restricted", "the kernel refuses files outside the rules, whatever else the daemon finds"),
		row("landlock tcp", 500, tcp, "restricted to the ports", "not restricted", "binds and connects outside the listed ports (TCP only: UDP and MPTCP are not Landlock's)"),
	}
	return rows
}

func (p *Plan) rootRow() Exposure {
	r := row("root", 1500, p.Root != "/", p.Root, "the host's /", "the host's whole file tree, home directories and secrets included")
	if t := p.bindsOf("/"); len(t) > 0 && r.Badness == 0 {
		r.State, r.Badness = "the host's / bound at "+t[0], 1
	}
	return r
}

func (p *Plan) readonlyRow() Exposure {
	r := row("read-only root", 1000, p.mounted(MountReadonly, "/"), "read-only", "writable where permissions allow", "a daemon that can rewrite its own programs and configuration keeps a compromise")
	var writable []string
	for _, m := range p.Mounts {
		if m.Kind == MountBind && !m.Readonly {
			writable = append(writable, m.Target)
		}
	}
	if r.Badness == 0 && len(writable) > 0 {
		r.State, r.Badness = "read-only but writable binds: "+strings.Join(writable, " "), 0.5
	}
	return r
}

// private reports whether the daemon's dir (/dev, /tmp) is its own: a
// mount of kind made there, or a root of its own with no bind that brings
// the host's in.
func (p *Plan) private(dir string, kind MountKind) bool {
	if p.mounted(kind, dir) {
		return true
	}
	return p.Root != "/" && len(p.bindsOf(dir)) == 0 && !p.mounted(MountBind, dir)
}

// bindsOf lists the targets of binds that bring the host's path in: a bind
// of the path itself or of a directory above it.
func (p *Plan) bindsOf(hostPath string) []string {
	var out []string
	for _, m := range p.Mounts {
		if m.Kind == MountBind && hostpath.Within(hostPath, m.Source) {
			out = append(out, m.Target)
		}
	}
	return out
}

func (p *Plan) mounted(kind MountKind, target string) bool {
	for _, m := range p.Mounts {
		if m.Kind == kind && m.Target == target {
			return true
		}
	}
	return false
}
