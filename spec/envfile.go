package spec

import (
	"fmt"
	"strings"
)

// process.env_file is read as systemd reads EnvironmentFile=: KEY=VALUE
// lines; blank lines and lines starting with '#' or ';' are skipped; space
// around the key and before the value is dropped; a value may be wrapped in
// single quotes (taken as written) or double quotes (where \" \\ \$ and \`
// stand for the character); an unquoted value ends at the line's end, its
// trailing space dropped, and a backslash at the line's end joins the next.

// EnvFileError is a problem at one line of an environment file.
type EnvFileError struct {
	Line int
	Msg  string
}

func (e *EnvFileError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// ParseEnvFile reads the lines of an environment file into a map; a name
// given twice takes its last value, as in systemd.
func ParseEnvFile(data string) (map[string]string, error) {
	env := map[string]string{}
	lines := strings.Split(data, "\n")
	for i := 0; i < len(lines); i++ {
		n := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(lines[i], "\r"))
		for strings.HasSuffix(line, "\\") && !strings.ContainsAny(line, "\"'") && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimSpace(lines[i])
		}
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, &EnvFileError{n, fmt.Sprintf("%q is not NAME=VALUE", line)}
		}
		if !validEnvName(name) || strings.ContainsAny(name, " \t") {
			return nil, &EnvFileError{n, fmt.Sprintf("%q is not a valid variable name", name)}
		}
		v, err := envValue(strings.TrimSpace(value))
		if err != nil {
			return nil, &EnvFileError{n, fmt.Sprintf("%s: %v", name, err)}
		}
		env[name] = v
	}
	return env, nil
}

// envValue unquotes a value: single quotes literally, double quotes with
// backslash escapes; an unquoted one is taken as it is.
func envValue(v string) (string, error) {
	if v == "" || (v[0] != '"' && v[0] != '\'') {
		return v, nil
	}
	q := v[0]
	if len(v) < 2 || v[len(v)-1] != q {
		return "", fmt.Errorf("unterminated %c quote", q)
	}
	body := v[1 : len(v)-1]
	if q == '\'' {
		return body, nil
	}
	var b strings.Builder
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '\\' && i+1 < len(body) && strings.IndexByte("\"\\$`", body[i+1]) >= 0 {
			i++
			c = body[i]
		} else if c == '"' {
			return "", fmt.Errorf("unescaped \" inside double quotes")
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}
