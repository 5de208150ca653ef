// Package scaffold writes specs for a person to edit: a commented, hardened
// starter spec for a command (daemonbox spec), and a spec translated from a
// systemd service unit (daemonbox spec --from-unit). It reads no spec and
// launches nothing; the command line calls it and prints what it returns.
package scaffold

import (
	"fmt"
	"path/filepath"
	"strings"
)

// toml quotes s as a TOML basic string. Go's %q is not TOML: it writes
// \x.. escapes, which TOML has not.
func toml(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// tomlArray writes a one-line array of strings.
func tomlArray(list []string) string {
	quoted := make([]string, len(list))
	for i, s := range list {
		quoted[i] = toml(s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

// NameFor is a spec name for command: its program's base name, made of the
// characters a name may hold, or "daemon".
func NameFor(command []string) string {
	if len(command) == 0 {
		return "daemon"
	}
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '-'
	}, filepath.Base(command[0]))
	if name == "" || name == "." || name == "-" {
		return "daemon"
	}
	return name[:min(len(name), 64)]
}
