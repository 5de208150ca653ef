package sandbox

import (
	"encoding/binary"
	"errors"
	"syscall"
	"time"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/rlimit"
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

func (e *encoder) plan(p *Plan) {
	e.str(p.Name)
	e.strs(p.Argv)
	e.strs(p.Env)
	e.str(p.Root)
	e.str(p.Cwd)
	e.uint(uint64(p.Umask))
	e.bool(p.NoNewPrivs)
	e.bool(p.OOMScoreAdj != nil)
	if p.OOMScoreAdj != nil {
		e.int(int64(*p.OOMScoreAdj))
	}
	e.uint(uint64(p.UID))
	e.uint(uint64(p.GID))
	e.uint(uint64(len(p.Groups)))
	for _, g := range p.Groups {
		e.uint(uint64(g))
	}
	e.uint(uint64(p.Caps.Keep))
	e.bool(p.Caps.Ambient)
	e.uint(uint64(len(p.Rlimits)))
	for _, l := range p.Rlimits {
		e.str(l.Name)
		e.int(int64(l.Resource))
		e.uint(l.Soft)
		e.uint(l.Hard)
	}
	for _, st := range p.Stdio {
		e.str(string(st.Kind))
		e.str(st.Path)
	}
	e.ints(p.Preserve)
	e.ints(p.Ignore)
	e.int(int64(p.Stop))
	e.int(int64(p.StopTimeout))
	e.int(int64(p.ParentDeath))
	e.int(int64(p.Reload))
	e.uint(uint64(p.Unshare))
	e.bool(p.PIDNS)
	e.bool(p.Init)
	e.str(p.Hostname)
	e.bool(p.UserNS)
	e.idMaps(p.UIDMap)
	e.idMaps(p.GIDMap)
	e.bool(p.Rootless)
	e.uint(uint64(len(p.Mounts)))
	for _, m := range p.Mounts {
		e.str(m.Kind)
		e.str(m.Source)
		e.str(m.Target)
		e.bool(m.Readonly)
		e.bool(m.Optional)
	}
	e.bool(p.Detach)
	e.str(p.Pidfile)
	e.str(p.PidfileDir)
	e.str(p.Restart)
	e.str(p.Ready)
	e.int(int64(p.ReadyTimeout))
	e.str(p.Manager)
	e.str(p.UserName)
	e.str(p.GroupName)
	e.strs(p.GroupNames)
}

func (d *decoder) plan() *Plan {
	p := &Plan{}
	p.Name = d.str()
	p.Argv = d.strs()
	p.Env = d.strs()
	p.Root = d.str()
	p.Cwd = d.str()
	p.Umask = uint32(d.uint())
	p.NoNewPrivs = d.bool()
	if d.bool() {
		adj := int(d.int())
		p.OOMScoreAdj = &adj
	}
	p.UID = uint32(d.uint())
	p.GID = uint32(d.uint())
	p.Groups = make([]uint32, d.count())
	for i := range p.Groups {
		p.Groups[i] = uint32(d.uint())
	}
	p.Caps = caps.Want{Keep: caps.Set(d.uint()), Ambient: d.bool()}
	if n := d.count(); n > 0 {
		p.Rlimits = make([]rlimit.Limit, n)
		for i := range p.Rlimits {
			p.Rlimits[i] = rlimit.Limit{Name: d.str(), Resource: int(d.int()), Soft: d.uint(), Hard: d.uint()}
		}
	}
	for i := range p.Stdio {
		p.Stdio[i] = spec.Stdio{Kind: spec.StdioKind(d.str()), Path: d.str()}
	}
	p.Preserve = d.ints()
	p.Ignore = d.ints()
	p.Stop = int(d.int())
	p.StopTimeout = time.Duration(d.int())
	p.ParentDeath = int(d.int())
	p.Reload = int(d.int())
	p.Unshare = uintptr(d.uint())
	p.PIDNS = d.bool()
	p.Init = d.bool()
	p.Hostname = d.str()
	p.UserNS = d.bool()
	p.UIDMap = d.idMaps()
	p.GIDMap = d.idMaps()
	p.Rootless = d.bool()
	if n := d.count(); n > 0 {
		p.Mounts = make([]Mount, n)
		for i := range p.Mounts {
			p.Mounts[i] = Mount{Kind: d.str(), Source: d.str(), Target: d.str(), Readonly: d.bool(), Optional: d.bool()}
		}
	}
	p.Detach = d.bool()
	p.Pidfile = d.str()
	p.PidfileDir = d.str()
	p.Restart = d.str()
	p.Ready = d.str()
	p.ReadyTimeout = time.Duration(d.int())
	p.Manager = d.str()
	p.UserName = d.str()
	p.GroupName = d.str()
	p.GroupNames = d.strs()
	return p
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

// encode renders a message: its kind, then the plan, the error or the pid.
func encode(m message) []byte {
	var e encoder
	e.str(m.Kind)
	switch {
	case m.Plan != nil:
		e.plan(m.Plan)
	case m.Error != nil:
		e.stepError(m.Error)
	case m.Kind == "started":
		e.int(int64(m.PID))
	}
	return e.b
}

func decode(b []byte) (message, error) {
	d := decoder{b: b}
	m := message{Kind: d.str()}
	switch m.Kind {
	case "plan":
		m.Plan = d.plan()
	case "error":
		m.Error = d.stepError()
	case "started":
		m.PID = int(d.int())
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = errors.New("trailing bytes")
	}
	return m, d.err
}
