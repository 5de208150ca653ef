package spec

import (
	"fmt"
	"sort"
	"strings"
)

// keyTables maps every table of the format, by path ("[]" for an array's
// elements), to the keys its decoder takes. keyHint searches it for a key
// put in the wrong table; schema_test.go holds schema.json to it.
func keyTables() map[string][]string {
	return map[string][]string{
		"": topKeys, "process": processKeys, "user": userKeys,
		"filesystem": filesystemKeys, "filesystem.bind[]": bindKeys,
		"namespaces": namespaceKeys, "namespaces.uid_map[]": idMapKeys, "namespaces.gid_map[]": idMapKeys,
		"capabilities": capKeys, "rlimits": rlimitKeys(), "fds": fdKeys, "fds.listen[]": listenKeys,
		"signals": signalKeys, "daemon": daemonKeys, "seccomp": seccompKeys,
		"resources": resourceKeys, "landlock": landlockKeys, "directories": directoriesKeys,
	}
}

// keyHint is the did-you-mean of an unknown key k in table path: a close key
// of the same table, else the same key (or a very close one) in another
// table, written as the person would write it there: [[filesystem.bind]]
// for an array of tables, [seccomp] for a table, or the dotted key.
func keyHint(path, k string, v any, known []string) string {
	if s := suggest(k, known); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	tables := keyTables()
	paths := make([]string, 0, len(tables))
	for p := range tables {
		if p != path && !strings.HasSuffix(p, "[]") {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	best, bestDist := "", len(k)/4+1 // another table's key must be nearer still
	for _, p := range paths {
		for _, c := range tables[p] {
			if d := editDistance(strings.ToLower(k), c); d < bestDist {
				best, bestDist = join(p, c), d
			}
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + spelled(best, v) + "?)"
}

// spelled writes key as TOML spells what v is: an array of tables, a table,
// or a key of a table.
func spelled(key string, v any) string {
	switch x := v.(type) {
	case []any:
		if len(x) > 0 {
			if _, ok := x[0].(map[string]any); ok {
				return "[[" + key + "]]"
			}
		}
	case map[string]any:
		return "[" + key + "]"
	}
	table, name, found := strings.Cut(key, ".")
	if !found {
		return fmt.Sprintf("%q at the top level, before any [table]", key)
	}
	return fmt.Sprintf("%q in [%s]", name, table)
}
