package export

import (
	"fmt"
	"strings"
)

// systemd reads a value in up to three passes: specifiers first ("%n", so
// a literal "%" is "%%"), then, for lists, a split into words with quotes
// (and C escapes in command lines and Environment=), then, in command lines
// only, "$NAME" expansion ("$$" is a literal "$"). The functions here quote
// for exactly the passes each directive makes.

// systemdArg quotes one ExecStart= argument so that the program receives it
// byte for byte: specifiers, C escapes, quotes and "$" all apply.
func systemdArg(s string) string {
	return quoteWord(s, "$")
}

// systemdEnv quotes one NAME=value word of Environment=, where "$" is
// literal and C escapes apply.
func systemdEnv(s string) string {
	return quoteWord(s, "")
}

// safeWordChars mean nothing to any of systemd's passes.
const safeWordChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._,+-=@:"

// quoteWord leaves a word bare when it has only characters no pass reads,
// and else double-quotes it, escaping what each pass would take.
func quoteWord(s, doubled string) string {
	if s != "" && strings.Trim(s, safeWordChars) == "" {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' || strings.IndexByte(doubled, c) >= 0:
			b.WriteByte(c)
			b.WriteByte(c)
		case c == '\\' || c == '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// systemdPath quotes a path for a path list (ReadOnlyPaths=, BindPaths=,
// ...), which systemd splits on spaces and unquotes without C escapes, so
// only "%" and spaces can be written safely. A path holding a quote, a
// backslash, a control character or one of seps (":" separates BindPaths=
// fields) is refused rather than written in a way systemd could misread.
func systemdPath(key, path, seps string) (string, error) {
	if strings.ContainsAny(path, `"'\`+seps) || strings.IndexFunc(path, isControl) >= 0 {
		return "", fmt.Errorf("export systemd: %s %q: a quote, backslash, control character or %q in a path cannot be written in this directive", key, path, seps)
	}
	path = strings.ReplaceAll(path, "%", "%%")
	if strings.ContainsAny(path, " ") {
		return `"` + path + `"`, nil
	}
	return path, nil
}

// systemdLine is a whole value that systemd reads only for specifiers
// (RootDirectory=, PIDFile=, StandardOutput=append:...). A newline would
// end the directive, and systemd trims spaces at either end, so those are
// refused.
func systemdLine(key, s string) (string, error) {
	if strings.IndexFunc(s, isControl) >= 0 || strings.TrimSpace(s) != s {
		return "", fmt.Errorf("export systemd: %s %q: a control character or a space at either end cannot be written in a unit file", key, s)
	}
	return strings.ReplaceAll(s, "%", "%%"), nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }
