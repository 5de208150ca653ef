package scaffold

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// translation gathers a unit's settings as spec keys, table by table, in the
// order the spec format lists them.
type translation struct {
	description  string
	command      []string
	tables       map[string][]string            // table -> "key = value" lines
	lists        map[string]map[string][]string // table -> key -> elements, emitted as arrays
	binds        []bind
	skipped      []string // what has no equivalent, as comment lines
	ignorePipe   bool
	execStarts   int
	envs         map[string]string // process.env; nil when the unit sets none
	ambientSet   bool              // AmbientCapabilities= seen: it, not the bounding set, is kept
	notify       bool              // Type=notify
	bounding     []string          // CapabilityBoundingSet= names
	settings     map[string]setting
	startTimeout string // TimeoutStartSec= before Type=notify was seen
}

type bind struct {
	source, target string
	readonly       bool
}

// tableOrder is the spec format's order of tables.
var tableOrder = []string{"", "process", "user", "filesystem", "namespaces", "capabilities", "rlimits", "fds", "signals", "daemon", "seccomp", "resources"}

func newTranslation() *translation {
	return &translation{tables: map[string][]string{}, lists: map[string]map[string][]string{}, ignorePipe: true, settings: settings()}
}

func (t *translation) note(format string, args ...any) {
	t.skipped = append(t.skipped, fmt.Sprintf(format, args...))
}

// set writes key = value (a TOML value) into table, replacing an earlier one,
// as a later assignment in a unit replaces an earlier one.
func (t *translation) set(table, key, value string) {
	lines := t.tables[table]
	for i, l := range lines {
		if strings.HasPrefix(l, key+" = ") {
			lines[i] = key + " = " + value
			return
		}
	}
	t.tables[table] = append(lines, key+" = "+value)
}

// add appends to a list key; an empty assignment empties it, as in systemd.
func (t *translation) add(table, key string, elems []string) {
	if t.lists[table] == nil {
		t.lists[table] = map[string][]string{}
	}
	if len(elems) == 0 {
		t.lists[table][key] = []string{}
		return
	}
	t.lists[table][key] = append(t.lists[table][key], elems...)
}

func yes(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "yes", "true", "on", "1":
		return true, true
	case "no", "false", "off", "0":
		return false, true
	}
	return false, false
}

// boolKey translates a yes/no setting to a boolean key.
func (t *translation) boolKey(name, value, table, key string) {
	b, ok := yes(value)
	if !ok {
		t.note("%s=%s: not a boolean", name, value)
		return
	}
	t.set(table, key, strconv.FormatBool(b))
}

// render writes the spec: a header, what was left out, then the tables.
func (t *translation) render(file, name string) string {
	t.signalsIgnore()
	t.boundingOnly()
	t.finishEnv()
	t.finishStartTimeout()
	var b strings.Builder
	fmt.Fprintf(&b, "# Translated by `daemonbox spec --from-unit` from %s.\n", file)
	if t.description != "" {
		fmt.Fprintf(&b, "# %s\n", oneLine(t.description))
	}
	b.WriteString("# Check it with `daemonbox check` and read `daemonbox explain` before use:\n# daemonbox's defaults are stricter than systemd's (no capabilities,\n# no_new_privs, a system call filter), which a unit may not expect.\n")
	if len(t.skipped) > 0 {
		b.WriteString("#\n# Not translated (no equivalent, or not the same meaning):\n")
		for _, s := range t.skipped {
			fmt.Fprintf(&b, "#   %s\n", oneLine(s))
		}
	}
	t.set("", "version", "1")
	t.set("", "name", toml(name))
	t.tables["process"] = append([]string{"command = " + tomlArray(t.command)}, t.tables["process"]...)
	for _, table := range tableOrder {
		t.renderTable(&b, table)
		if table == "filesystem" {
			t.renderBinds(&b)
		}
	}
	return b.String()
}

func (t *translation) renderTable(b *strings.Builder, table string) {
	lines := t.tables[table]
	keys := sortedListKeys(t.lists[table])
	if len(lines) == 0 && len(keys) == 0 {
		return
	}
	if table != "" {
		fmt.Fprintf(b, "\n[%s]\n", table)
	} else {
		b.WriteString("\n")
	}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	for _, k := range keys {
		fmt.Fprintf(b, "%s = %s\n", k, tomlArray(t.lists[table][k]))
	}
}

func (t *translation) renderBinds(b *strings.Builder) {
	for _, bd := range t.binds {
		fmt.Fprintf(b, "\n[[filesystem.bind]]\nsource = %s\ntarget = %s\nreadonly = %t\n", toml(bd.source), toml(bd.target), bd.readonly)
	}
}

func sortedListKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// signalsIgnore: systemd ignores SIGPIPE unless IgnoreSIGPIPE=no; daemonbox
// ignores the terminal stop signals by default and SIGPIPE only when asked.
func (t *translation) signalsIgnore() {
	if t.ignorePipe {
		t.add("signals", "ignore", []string{"SIGTTIN", "SIGTTOU", "SIGTSTP", "SIGPIPE"})
	}
}
