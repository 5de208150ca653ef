// Package export writes a daemonbox plan in the formats of other engines:
// a systemd unit (systemd*.go) and an OCI runtime bundle. It reads a
// resolved sandbox.Plan, and the spec where the plan does not keep a fact
// (the environment before inherit_env is read, the Landlock rules as written).
package export

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
)

// DefaultSystemdVersion is the systemd an export targets unless told: 252,
// the systemd of Debian 12 and of RHEL 9, the oldest that current stable
// distributions ship. A unit for it runs on every later systemd; what a
// later one could add (PrivatePIDs= from 257) is written as a comment.
const DefaultSystemdVersion = 252

// SystemdOptions are export's flags for --format systemd.
type SystemdOptions struct {
	Version int    // the target systemd; 0 means DefaultSystemdVersion
	Output  string // the service unit's file; "" writes every unit to stdout
}

// SystemdUnit is one unit file: its name ("web.service") and its text.
type SystemdUnit struct {
	Name, Text string
}

// SystemdUnitSeparator starts each unit when several go to one stream:
// "# === web.service ===". A comment to systemd, and a line to split on
// (csplit -z - '/^# === /' '{*}').
func SystemdUnitSeparator(name string) string {
	return "# === " + name + " ===\n"
}

// WriteSystemd exports the plan and writes its units: each after its
// separator to stdout when opt.Output is "", else the service to
// opt.Output and each socket unit beside it in the same directory.
func WriteSystemd(stdout io.Writer, s *spec.Spec, p *sandbox.Plan, opt SystemdOptions) error {
	units, err := Systemd(s, p, opt)
	if err != nil {
		return err
	}
	if opt.Output == "" {
		var b strings.Builder
		for _, u := range units {
			b.WriteString(SystemdUnitSeparator(u.Name) + u.Text)
		}
		_, err := io.WriteString(stdout, b.String())
		return err
	}
	dir := filepath.Dir(opt.Output)
	for _, u := range units {
		path := filepath.Join(dir, u.Name)
		if err := os.WriteFile(path, []byte(u.Text), 0o644); err != nil {
			return sandbox.AtStep("export systemd", sandbox.OpError("write", path, err))
		}
	}
	return nil
}

// Systemd expresses the plan as systemd units: the service first, then a
// socket unit for each [[fds.listen]] entry (one unit per name, since
// FileDescriptorName= names every socket of its unit).
func Systemd(s *spec.Spec, p *sandbox.Plan, opt SystemdOptions) ([]SystemdUnit, error) {
	if opt.Version == 0 {
		opt.Version = DefaultSystemdVersion
	}
	service := p.Name + ".service"
	if opt.Output != "" {
		service = filepath.Base(opt.Output)
		if !strings.HasSuffix(service, ".service") || service == ".service" {
			return nil, fmt.Errorf("export systemd: --output %s: the file name must end in .service, as systemd names a service unit", opt.Output)
		}
	}
	base := strings.TrimSuffix(service, ".service")
	if !unitNameText(base) {
		return nil, fmt.Errorf("export systemd: unit name %q: use letters, digits, ':', '_', '.' and '-' only (set name in the spec, or --output)", service)
	}
	sockets, err := socketUnits(s, base, service)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(sockets))
	for i, u := range sockets {
		names[i] = u.Name
	}
	g := &serviceGen{s: s, p: p, version: opt.Version, sockets: names}
	text, err := g.unit()
	if err != nil {
		return nil, err
	}
	return append([]SystemdUnit{{Name: service, Text: text}}, sockets...), nil
}

// unitText builds a unit file: sections, directives and comments. The
// first error sticks, so the generators read straight through.
type unitText struct {
	b   strings.Builder
	err error
}

func (u *unitText) section(name string) {
	if u.b.Len() > 0 {
		u.b.WriteByte('\n')
	}
	u.b.WriteString("[" + name + "]\n")
}

// set writes key=value. A control character would end the line where
// systemd reads (it ends lines at \r too) and start a directive of the
// value's choosing, so it is an error, whatever the caller checked.
func (u *unitText) set(key, value string) {
	if strings.ContainsFunc(value, isControl) {
		u.fail(fmt.Errorf("export systemd: %s=%q: a control character has no place in a unit line", key, value))
		return
	}
	u.b.WriteString(key + "=" + value + "\n")
}

// note writes a comment: what a key means here, or why it has no directive.
// A line break starts a new comment line; any other control character is
// written as an escape, so that no spec value ends the comment.
func (u *unitText) note(format string, args ...any) {
	for _, line := range strings.Split(fmt.Sprintf(format, args...), "\n") {
		u.b.WriteString(strings.TrimRight("# "+escapeControls(line), " ") + "\n")
	}
}

func escapeControls(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// unitNameText reports whether s may stand in a unit's name as it is.
func unitNameText(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.-") == ""
}

// path writes key=value for a value that must pass systemdLine.
func (u *unitText) line(key, value string) {
	v, err := systemdLine(key, value)
	if err != nil {
		u.fail(err)
		return
	}
	u.set(key, v)
}

func (u *unitText) fail(err error) {
	if u.err == nil {
		u.err = err
	}
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
