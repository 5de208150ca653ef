package sandbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/rlimit"
	"github.com/daemonbox/daemonbox/seccomp"
	"github.com/daemonbox/daemonbox/spec"
)

// The protocol's messages are encoded by hand: varints and length-prefixed
// strings, in field order. encoding/json would do, but it is the largest
// package daemonbox would link, and linking costs start-up time on every
// launch, including the in-place ones that never send a message.
// TestCodecRoundTrip fills every field of Plan, so a field added without a
// line here fails it.

type encoder struct{ b []byte }

func (e *encoder) uint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) int(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string)  { e.uint(uint64(len(s))); e.b = append(e.b, s...) }

func (e *encoder) bool(v bool) {
	if v {
		e.uint(1)
	} else {
		e.uint(0)
	}
}

func (e *encoder) strs(list []string) {
	e.uint(uint64(len(list)))
	for _, s := range list {
		e.str(s)
	}
}

func (e *encoder) ints(list []int) {
	e.uint(uint64(len(list)))
	for _, n := range list {
		e.int(int64(n))
	}
}

type decoder struct {
	b   []byte
	err error
}

var errShort = errors.New("truncated message")

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.err = errShort
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) bool() bool { return d.uint() != 0 }

// count reads a list length, refusing one the rest of the message cannot hold.
func (d *decoder) count() int {
	n := d.uint()
	if n > uint64(len(d.b)) {
		d.err = errShort
		return 0
	}
	return int(n)
}

func (d *decoder) strs() []string {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *decoder) ints() []int {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]int, n)
	for i := range out {
		out[i] = int(d.int())
	}
	return out
}

func (e *encoder) idMaps(maps []spec.IDMap) {
	e.uint(uint64(len(maps)))
	for _, m := range maps {
		e.uint(uint64(m.Inside))
		e.uint(uint64(m.Outside))
		e.uint(uint64(m.Count))
	}
}

func (d *decoder) idMaps() []spec.IDMap {
	n := d.count()
	if n == 0 {
		return nil
	}
	maps := make([]spec.IDMap, n)
	for i := range maps {
		maps[i] = spec.IDMap{Inside: uint32(d.uint()), Outside: uint32(d.uint()), Count: uint32(d.uint())}
	}
	return maps
}

func (e *encoder) launch(l *Launch) {
	e.strs(l.Argv)
	e.strs(l.Env)
	e.str(l.Root)
	e.str(l.Cwd)
	e.uint(uint64(l.Umask))
	e.bool(l.NoNewPrivs)
	e.bool(l.OOMScoreAdj != nil)
	if l.OOMScoreAdj != nil {
		e.int(int64(*l.OOMScoreAdj))
	}
	e.uint(uint64(l.UID))
	e.uint(uint64(l.GID))
	e.uint(uint64(len(l.Groups)))
	for _, g := range l.Groups {
		e.uint(uint64(g))
	}
	e.uint(uint64(l.Caps.Keep))
	e.bool(l.Caps.Ambient)
	e.uint(uint64(len(l.Rlimits)))
	for _, r := range l.Rlimits {
		e.str(r.Name)
		e.int(int64(r.Resource))
		e.uint(r.Soft)
		e.uint(r.Hard)
	}
	e.ints(l.Preserve)
	e.sockets(l.Listen)
	e.ints(l.Ignore)
	e.int(int64(l.ParentDeath))
	e.uint(uint64(l.Unshare))
	e.bool(l.PIDNS)
	e.bool(l.Init)
	e.str(l.InitProgram)
	e.strs(l.InitArgv)
	e.bool(l.PID1Forks)
	e.str(l.Hostname)
	e.uint(uint64(len(l.Mounts)))
	for _, m := range l.Mounts {
		e.str(string(m.Kind))
		e.str(m.Source)
		e.str(m.Target)
		e.bool(m.Readonly)
		e.bool(m.Optional)
		e.bool(m.InRoot)
	}
	e.bool(l.UserNS)
	e.idMaps(l.UIDMap)
	e.idMaps(l.GIDMap)
	e.bool(l.Rootless)
	e.str(l.NotifySocket)
	e.str(l.Title)
	e.str(string(l.Filter))
	e.landlock(l.Landlock)
}

func (d *decoder) launch() *Launch {
	l := &Launch{}
	l.Argv = d.strs()
	l.Env = d.strs()
	l.Root = d.str()
	l.Cwd = d.str()
	l.Umask = uint32(d.uint())
	l.NoNewPrivs = d.bool()
	if d.bool() {
		adj := int(d.int())
		l.OOMScoreAdj = &adj
	}
	l.UID = uint32(d.uint())
	l.GID = uint32(d.uint())
	l.Groups = make([]uint32, d.count())
	for i := range l.Groups {
		l.Groups[i] = uint32(d.uint())
	}
	l.Caps = caps.Want{Keep: caps.Set(d.uint()), Ambient: d.bool()}
	if n := d.count(); n > 0 {
		l.Rlimits = make([]rlimit.Limit, n)
		for i := range l.Rlimits {
			l.Rlimits[i] = rlimit.Limit{Name: d.str(), Resource: int(d.int()), Soft: d.uint(), Hard: d.uint()}
		}
	}
	l.Preserve = d.ints()
	l.Listen = d.sockets()
	l.Ignore = d.ints()
	l.ParentDeath = int(d.int())
	l.Unshare = uintptr(d.uint())
	l.PIDNS = d.bool()
	l.Init = d.bool()
	l.InitProgram = d.str()
	l.InitArgv = d.strs()
	l.PID1Forks = d.bool()
	l.Hostname = d.str()
	if n := d.count(); n > 0 {
		l.Mounts = make([]Mount, n)
		for i := range l.Mounts {
			l.Mounts[i] = Mount{Kind: MountKind(d.str()), Source: d.str(), Target: d.str(), Readonly: d.bool(), Optional: d.bool(), InRoot: d.bool()}
		}
	}
	l.UserNS = d.bool()
	l.UIDMap = d.idMaps()
	l.GIDMap = d.idMaps()
	l.Rootless = d.bool()
	l.NotifySocket = d.str()
	l.Title = d.str()
	if f := d.str(); f != "" {
		l.Filter = []byte(f)
	}
	l.Landlock = d.landlock()
	return l
}

// lifecycle leaves out Detach: only the process that reads the spec acts on
// it, by starting a detached supervisor.
func (e *encoder) lifecycle(c *Lifecycle) {
	e.str(c.Name)
	for _, st := range c.Stdio {
		e.str(string(st.Kind))
		e.str(st.Path)
	}
	e.str(c.Pidfile)
	e.str(c.PidfileDir)
	e.str(string(c.Restart))
	e.str(string(c.Ready))
	e.int(int64(c.ReadyTimeout))
	e.int(int64(c.StartSettle))
	e.int(int64(c.Watchdog))
	e.int(int64(c.Stop))
	e.int(int64(c.StopTimeout))
	e.int(int64(c.Reload))
	e.str(c.Manager)
	e.cgroup(&c.Cgroup)
	e.uint(uint64(len(c.Directories)))
	for _, d := range c.Directories {
		e.str(d.Kind)
		e.str(d.Base)
		e.str(d.Name)
		e.uint(uint64(d.Mode))
		e.int(int64(d.UID))
		e.int(int64(d.GID))
	}
}

func (d *decoder) lifecycle() Lifecycle {
	var c Lifecycle
	c.Name = d.str()
	for i := range c.Stdio {
		c.Stdio[i] = spec.Stdio{Kind: spec.StdioKind(d.str()), Path: d.str()}
	}
	c.Pidfile = d.str()
	c.PidfileDir = d.str()
	c.Restart = spec.Restart(d.str())
	c.Ready = spec.Ready(d.str())
	c.ReadyTimeout = time.Duration(d.int())
	c.StartSettle = time.Duration(d.int())
	c.Watchdog = time.Duration(d.int())
	c.Stop = int(d.int())
	c.StopTimeout = time.Duration(d.int())
	c.Reload = int(d.int())
	c.Manager = d.str()
	c.Cgroup = d.cgroup()
	if n := d.count(); n > 0 {
		c.Directories = make([]Directory, n)
		for i := range c.Directories {
			c.Directories[i] = Directory{Kind: d.str(), Base: d.str(), Name: d.str(), Mode: uint32(d.uint()), UID: int(d.int()), GID: int(d.int())}
		}
	}
	return c
}

func (e *encoder) plan(p *Plan) {
	e.launch(&p.Launch)
	e.lifecycle(&p.Lifecycle)
	e.str(p.UserName)
	e.str(p.GroupName)
	e.strs(p.GroupNames)
	e.int(int64(p.LandlockABI))
	e.seccompPolicy(p.SeccompPolicy)
	e.str(p.EnvFile)
	e.strs(p.EnvFileNames)
	e.str(p.PID1)
	e.str(p.StagedWhy)
}

func (d *decoder) plan() *Plan {
	p := &Plan{Launch: *d.launch(), Lifecycle: d.lifecycle()}
	p.UserName = d.str()
	p.GroupName = d.str()
	p.GroupNames = d.strs()
	p.LandlockABI = int(d.int())
	p.SeccompPolicy = d.seccompPolicy()
	p.EnvFile = d.str()
	p.EnvFileNames = d.strs()
	p.PID1 = d.str()
	p.StagedWhy = d.str()
	return p
}

func (e *encoder) seccompPolicy(sp *seccomp.Policy) {
	e.bool(sp != nil)
	if sp == nil {
		return
	}
	e.strs(sp.Allow)
	e.strs(sp.Deny)
	e.str(string(sp.Action))
	e.uint(uint64(sp.Errno))
	e.bool(sp.NoMPTCP)
	e.bool(sp.Families != nil)
	e.ints(sp.Families)
	e.bool(sp.DenyWriteExecute)
}

func (d *decoder) seccompPolicy() *seccomp.Policy {
	if !d.bool() {
		return nil
	}
	sp := &seccomp.Policy{Allow: d.strs(), Deny: d.strs()}
	sp.Action = seccomp.Action(d.str())
	sp.Errno = syscall.Errno(d.uint())
	sp.NoMPTCP = d.bool()
	if d.bool() {
		sp.Families = d.ints()
		if sp.Families == nil {
			sp.Families = []int{}
		}
	} else {
		d.ints()
	}
	sp.DenyWriteExecute = d.bool()
	return sp
}

func (e *encoder) stepError(se *StepError) {
	e.str(se.Step)
	e.str(se.Op)
	e.str(se.Path)
	e.uint(uint64(se.Errno))
	e.str(se.Msg)
}

func (d *decoder) stepError() *StepError {
	return &StepError{Step: d.str(), Op: d.str(), Path: d.str(), Errno: syscall.Errno(d.uint()), Msg: d.str()}
}

// encode renders a message: its kind, then what that kind carries.
func encode(m message) []byte {
	var e encoder
	e.uint(uint64(m.kind))
	switch m.kind {
	case kindLaunch, kindResume:
		e.launch(m.launch)
	case kindPlan:
		e.plan(m.plan)
	case kindError:
		e.stepError(m.err)
	case kindStarted:
		e.int(int64(m.pid))
	}
	return e.b
}

func decode(b []byte) (message, error) {
	d := decoder{b: b}
	m := message{kind: kind(d.uint())}
	switch m.kind {
	case kindLaunch, kindResume:
		m.launch = d.launch()
	case kindPlan:
		m.plan = d.plan()
	case kindError:
		m.err = d.stepError()
	case kindStarted:
		m.pid = int(d.int())
	case kindNotify, kindReady:
	default:
		d.err = fmt.Errorf("unknown %s", m.kind)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("trailing bytes")
	}
	return m, d.err
}

func (e *encoder) ports(list []uint16) {
	e.uint(uint64(len(list)))
	for _, p := range list {
		e.uint(uint64(p))
	}
}

func (d *decoder) ports() []uint16 {
	var out []uint16
	for n := d.count(); n > 0; n-- {
		out = append(out, uint16(d.uint()))
	}
	return out
}

func (e *encoder) landlock(l *spec.Landlock) {
	e.bool(l != nil)
	if l == nil {
		return
	}
	e.strs(l.Read)
	e.strs(l.Write)
	e.strs(l.Execute)
	e.ports(l.BindTCP)
	e.ports(l.ConnectTCP)
	e.bool(l.RestrictBind)
	e.bool(l.RestrictConnect)
	e.str(string(l.Mode))
}

func (d *decoder) landlock() *spec.Landlock {
	if !d.bool() {
		return nil
	}
	l := &spec.Landlock{Set: true}
	l.Read, l.Write, l.Execute = d.strs(), d.strs(), d.strs()
	l.BindTCP, l.ConnectTCP = d.ports(), d.ports()
	l.RestrictBind, l.RestrictConnect = d.bool(), d.bool()
	l.Mode = spec.LandlockMode(d.str())
	return l
}

func (e *encoder) cgroup(c *Cgroup) {
	e.str(c.Path)
	e.str(c.Base)
	e.str(c.None)
	e.str(c.MemoryMax)
	e.str(c.Spec)
	e.bool(c.V2)
	e.bool(c.Delegated)
	e.bool(c.Set)
	l := &c.Limits
	for _, v := range []*uint64{l.MemoryMax, l.MemorySwapMax, l.CPUWeight, l.IOWeight} {
		e.bool(v != nil)
		if v != nil {
			e.uint(*v)
		}
	}
	for _, v := range []*int64{l.PidsMax, l.CPUQuota} {
		e.bool(v != nil)
		if v != nil {
			e.int(*v)
		}
	}
	e.uint(l.CPUPeriod)
}

func (d *decoder) cgroup() Cgroup {
	c := Cgroup{Path: d.str(), Base: d.str(), None: d.str(), MemoryMax: d.str(), Spec: d.str()}
	c.V2, c.Delegated, c.Set = d.bool(), d.bool(), d.bool()
	l := &c.Limits
	for _, v := range []**uint64{&l.MemoryMax, &l.MemorySwapMax, &l.CPUWeight, &l.IOWeight} {
		if d.bool() {
			n := d.uint()
			*v = &n
		}
	}
	for _, v := range []**int64{&l.PidsMax, &l.CPUQuota} {
		if d.bool() {
			n := d.int()
			*v = &n
		}
	}
	l.CPUPeriod = d.uint()
	return c
}

func (e *encoder) sockets(list []Socket) {
	e.uint(uint64(len(list)))
	for _, s := range list {
		for _, str := range []string{s.Name, s.Network, s.Address, s.Host, s.Path, s.Systemd} {
			e.str(str)
		}
		e.uint(uint64(s.Port))
		e.uint(uint64(s.Mode))
		e.int(int64(s.UID))
		e.int(int64(s.GID))
	}
}

func (d *decoder) sockets() []Socket {
	n := d.count()
	if n == 0 {
		return nil
	}
	out := make([]Socket, n)
	for i := range out {
		s := &out[i]
		for _, str := range []*string{&s.Name, &s.Network, &s.Address, &s.Host, &s.Path, &s.Systemd} {
			*str = d.str()
		}
		s.Port = uint16(d.uint())
		s.Mode = uint32(d.uint())
		s.UID = int(d.int())
		s.GID = int(d.int())
	}
	return out
}
