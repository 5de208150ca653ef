package scaffold

import "strings"

// splitCommand splits a systemd command line or Environment= value into
// words: whitespace separates, "..." and '...' quote, a backslash escapes the
// next character. Variables ($X, ${X}) and specifiers (%n) are kept as they
// are, with a problem said, since daemonbox expands neither.
func splitCommand(s string) (words []string, problem string) {
	var cur strings.Builder
	inWord := false
	var quote rune
	escaped := false
	s = strings.NewReplacer("$$", "\x00d", "%%", "\x00p").Replace(s)
	problem = expansions(s)
	for _, r := range s {
		switch {
		case escaped && r == '\n': // a continued line: systemd reads a space
			escaped = false
			if cur.Len() > 0 {
				words = append(words, cur.String())
				cur.Reset()
			}
			inWord = false
		case escaped:
			cur.WriteRune(unescape(r))
			escaped = false
		case r == '\\':
			escaped, inWord = true, true
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	if quote != 0 {
		problem = "an unterminated quote"
	}
	literal := strings.NewReplacer("\x00d", "$", "\x00p", "%")
	for i, w := range words {
		words[i] = literal.Replace(w)
	}
	return words, problem
}

// expansions says what systemd would have expanded: "$$" and "%%", which
// stand for "$" and "%", are already out of s.
func expansions(s string) string {
	if strings.ContainsAny(s, "$%") {
		return "daemonbox expands no $VARIABLE or %specifier: replace them with their values"
	}
	return ""
}

func unescape(r rune) rune {
	switch r {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	}
	return r
}
