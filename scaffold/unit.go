package scaffold

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"
)

// FromUnit translates the [Service] section of a systemd service unit into a
// spec, as TOML text. Each setting daemonbox can express becomes its key;
// each it cannot is listed as a comment at the top, with the reason, so the
// person editing the spec sees what the unit did that the spec does not.
func FromUnit(file string, data []byte, name string) (string, error) {
	sections, err := unit.DeserializeSections(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%s: %v", file, err)
	}
	t := newTranslation()
	found := false
	for _, sec := range sections {
		if sec.Section != "Service" {
			t.otherSection(sec)
			continue
		}
		found = true
		for _, e := range sec.Entries {
			t.entry(e.Name, e.Value)
		}
	}
	if !found {
		return "", fmt.Errorf("%s: no [Service] section", file)
	}
	if len(t.command) == 0 {
		return "", fmt.Errorf("%s: [Service] has no ExecStart=", file)
	}
	if name == "" {
		name = NameFor([]string{strings.TrimSuffix(unitBase(file), ".service")})
	}
	return t.render(file, name), nil
}

func unitBase(file string) string {
	if i := strings.LastIndexByte(file, '/'); i >= 0 {
		return file[i+1:]
	}
	return file
}

// otherSection keeps [Unit]'s description; the rest of [Unit] and [Install]
// are about ordering and enabling, which daemonbox leaves to its caller.
func (t *translation) otherSection(sec *unit.UnitSection) {
	var names []string
	for _, e := range sec.Entries {
		if sec.Section == "Unit" && e.Name == "Description" {
			t.description = e.Value
			continue
		}
		names = append(names, e.Name+"=")
	}
	if len(names) > 0 {
		t.note("[%s] %s: ordering, dependencies and enabling are for whatever starts daemonbox (an init script, a unit)", sec.Section, strings.Join(names, " "))
	}
}
