// Package export writes a spec's confinement in another tool's terms: an OCI
// runtime's config.json (oci*.go) and a systemd unit (systemd*.go). It reads
// the resolved sandbox.Plan, so that what is exported is what daemonbox
// would apply on this host, and the spec only for what the plan does not
// keep (fds.listen and the like, for the notes on what is not carried).
package export

import (
	"sort"
	"strings"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/cgroup"
	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// OCIVersion is the runtime-spec version the config claims: every field
// written is in 1.0.2, which Debian 12's runc 1.1 implements.
const OCIVersion = "1.0.2"

// OCINoteKey prefixes the annotations that say what the config does not
// carry: "org.daemonbox.not-carried.landlock" and so on.
const OCINoteKey = "org.daemonbox.not-carried."

// OCI returns the runtime-spec config for p, the plan of s: the same
// process, credentials, capabilities, limits, namespaces, mounts, system
// call filter and cgroup limits, and an annotation for each setting that
// OCI cannot express. A chroot stays where the spec puts it (an absolute
// root.path), so the config runs on this host; the host's "/" is bound
// over the bundle's empty rootfs directory (OCIHostRoot). See OCIBundle.
func OCI(s *spec.Spec, p *sandbox.Plan) (*specs.Spec, error) {
	filter, err := ociSeccomp(p)
	if err != nil {
		return nil, err
	}
	fs, err := ociMounts(p)
	if err != nil {
		return nil, err
	}
	root := p.Root
	if root == "/" {
		root = OCIHostRoot
	}
	c := &specs.Spec{
		Version:  OCIVersion,
		Process:  ociProcess(p),
		Root:     &specs.Root{Path: root, Readonly: fs.rootRO},
		Hostname: p.Hostname,
		Mounts:   fs.mounts,
		Linux: &specs.Linux{
			Namespaces:    ociNamespaces(p),
			ReadonlyPaths: fs.readonly,
			MaskedPaths:   fs.masked,
			Seccomp:       filter,
			Resources:     ociResources(p),
		},
		Annotations: map[string]string{"org.daemonbox.name": p.Name},
	}
	if p.UserNS {
		c.Linux.UIDMappings, c.Linux.GIDMappings = ociIDMap(p.UIDMap), ociIDMap(p.GIDMap)
	}
	for key, why := range ociNotCarried(s, p) {
		c.Annotations[OCINoteKey+key] = why
	}
	if p.Unshare&unix.CLONE_NEWNS != 0 {
		// As daemonbox makes its mount namespace: a mount the host makes
		// later below the root does not reach the daemon. runc's default,
		// rslave, lets it in, with the host's flags.
		c.Linux.RootfsPropagation = "rprivate"
	}
	if fs.rootAlone {
		c.Annotations[OCINoteKey+"filesystem.readonly"] = "the root is read-only through root.readonly, which a runtime applies to the root's own mount alone: nothing was mounted below " +
			p.Root + " in the export's mount namespace, but what is mounted there after the export, or shows only in another namespace, stays writable under the runtime (daemonbox makes the root read-only recursively at each launch)"
	}
	return c, nil
}

// ociProcess is the daemon's process: argv, environment, credentials,
// capabilities, limits. No terminal: daemonbox never gives a daemon one.
func ociProcess(p *sandbox.Plan) *specs.Process {
	umask := p.Umask
	sets := p.Caps.Sets()
	proc := &specs.Process{
		Args: p.Argv, Env: p.Env, Cwd: p.Cwd,
		User: specs.User{UID: p.UID, GID: p.GID, Umask: &umask, AdditionalGids: p.Groups},
		Capabilities: &specs.LinuxCapabilities{
			Bounding: ociCaps(sets.Bounding), Effective: ociCaps(sets.Effective),
			Permitted: ociCaps(sets.Permitted), Inheritable: ociCaps(sets.Inheritable),
			Ambient: ociCaps(sets.Ambient),
		},
		NoNewPrivileges: p.NoNewPrivs,
		OOMScoreAdj:     p.OOMScoreAdj,
	}
	for _, l := range p.Rlimits {
		proc.Rlimits = append(proc.Rlimits, specs.POSIXRlimit{
			Type: "RLIMIT_" + strings.ToUpper(l.Name), Soft: l.Soft, Hard: l.Hard})
	}
	return proc
}

// ociCaps names a set as OCI does ("CAP_NET_BIND_SERVICE"). An empty set is
// left out of the JSON (the type's omitempty), which runc reads as empty;
// the capabilities object itself is always written, since a runtime given
// none leaves the process's capabilities as they are (all of root's).
func ociCaps(s caps.Set) []string {
	out := []string{}
	for n := 0; n < 64; n++ {
		if s.Has(n) {
			out = append(out, caps.Name(n))
		}
	}
	return out
}

// ociNamespaces are the spec's namespaces, and always a mount namespace:
// an OCI runtime makes the root with mounts, so it has no mode without one.
func ociNamespaces(p *sandbox.Plan) []specs.LinuxNamespace {
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	flags := []struct {
		flag uintptr
		kind specs.LinuxNamespaceType
	}{
		{unix.CLONE_NEWNET, specs.NetworkNamespace}, {unix.CLONE_NEWIPC, specs.IPCNamespace},
		{unix.CLONE_NEWUTS, specs.UTSNamespace}, {unix.CLONE_NEWCGROUP, specs.CgroupNamespace},
	}
	if p.PIDNS || needsProc(p) {
		ns = append(ns, specs.LinuxNamespace{Type: specs.PIDNamespace})
	}
	for _, f := range flags {
		if p.Unshare&f.flag != 0 {
			ns = append(ns, specs.LinuxNamespace{Type: f.kind})
		}
	}
	if p.UserNS {
		ns = append(ns, specs.LinuxNamespace{Type: specs.UserNamespace})
	}
	return ns
}

func ociIDMap(m []spec.IDMap) []specs.LinuxIDMapping {
	out := make([]specs.LinuxIDMapping, len(m))
	for i, l := range m {
		out[i] = specs.LinuxIDMapping{ContainerID: l.Inside, HostID: l.Outside, Size: l.Count}
	}
	return out
}

// ociResources are the cgroup limits, on OCI's scales, which are cgroup
// v1's: swap is memory plus swap, and the weights are cpu.shares and
// blkio.weight, converted as daemonbox converts them on v1. The cgroup's
// path is left to the runtime (cgroupsPath unset), so that the exported
// daemon never joins the cgroup of a daemonbox-run one.
func ociResources(p *sandbox.Plan) *specs.LinuxResources {
	l := p.Cgroup.Limits
	if !p.Cgroup.Set {
		return nil
	}
	r := &specs.LinuxResources{}
	if l.MemoryMax != nil {
		m := clamp(*l.MemoryMax)
		r.Memory = &specs.LinuxMemory{Limit: &m}
		if l.MemorySwapMax != nil {
			sw := clamp(*l.MemoryMax + *l.MemorySwapMax)
			r.Memory.Swap = &sw
		}
	}
	if l.PidsMax != nil {
		pids := *l.PidsMax
		r.Pids = &specs.LinuxPids{Limit: &pids}
	}
	if l.CPUQuota != nil || l.CPUWeight != nil {
		r.CPU = &specs.LinuxCPU{}
		if l.CPUQuota != nil {
			q, period := *l.CPUQuota, l.CPUPeriod
			r.CPU.Quota, r.CPU.Period = &q, &period
		}
		if l.CPUWeight != nil {
			shares := cgroup.CPUShares(*l.CPUWeight)
			r.CPU.Shares = &shares
		}
	}
	if l.IOWeight != nil {
		w := cgroup.BlkioWeight(*l.IOWeight)
		r.BlockIO = &specs.LinuxBlockIO{Weight: &w}
	}
	return r
}

func clamp(n uint64) int64 {
	if n > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(n)
}

// sortedKeys lists a map's keys in order, for stable output.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
