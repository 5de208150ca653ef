package spec

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func readSchema(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSchemaKeys(t *testing.T) {
	found := map[string][]string{}
	schemaWalk(readSchema(t), "", found)
	tables := keyTables()
	for path, keys := range found {
		want, ok := tables[path]
		if !ok {
			t.Errorf("schema.json has table %q, which the decoder's key lists (keyTables, hints.go) do not know", path)
			continue
		}
		for _, k := range want {
			if !slices.Contains(keys, k) {
				t.Errorf("the decoder takes %s, which schema.json lacks", join(path, k))
			}
		}
		for _, k := range keys {
			if !slices.Contains(want, k) {
				t.Errorf("schema.json has %s, which the decoder refuses", join(path, k))
			}
		}
	}
	for path := range tables {
		if _, ok := found[path]; !ok {
			t.Errorf("the decoder's table %q is not in schema.json", path)
		}
	}
}

// schemaWalk records the property names of every object schema reached
// through properties and items, by path.
func schemaWalk(node map[string]any, path string, found map[string][]string) {
	if props, ok := node["properties"].(map[string]any); ok {
		for k, v := range props {
			found[path] = append(found[path], k)
			if child, ok := v.(map[string]any); ok {
				schemaWalk(child, join(path, k), found)
			}
		}
		sort.Strings(found[path])
	}
	if items, ok := node["items"].(map[string]any); ok {
		schemaWalk(items, path+"[]", found)
	}
}

// TestSchemaValidatesExamples holds every example, read as TOML and given
// to the validator as JSON, to schema.json, and sees it refuse what the
// decoder refuses by key.
func TestSchemaValidatesExamples(t *testing.T) {
	sch := compileSchema(t)
	files, _ := filepath.Glob("../examples/*.toml")
	files2, _ := filepath.Glob("../bench/*.toml")
	files = append(files, files2...)
	if len(files) < 5 {
		t.Fatalf("examples: %v", files)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(tomlToJSON(t, data)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, bad := range []string{
		"[process]\ncommand = [\"/bin/true\"]\n[[bind]]\nsource = \"/a\"\ntarget = \"/a\"\n",
		"[process]\ncommand = [\"/bin/true\"]\n[daemon]\nrestart = \"sometimes\"\n",
		"[process]\ncommand = [\"bin/true\"]\n",
		"[user]\nuser = \"nobody\"\n",
	} {
		if err := sch.Validate(tomlToJSON(t, []byte(bad))); err == nil {
			t.Errorf("schema.json accepts %q", bad)
		}
	}
}

// namespaces.init takes a boolean or an absolute path, as the decoder does.
func TestSchemaInit(t *testing.T) {
	sch := compileSchema(t)
	const head = "[process]\ncommand = [\"/bin/true\"]\n[namespaces]\npid = true\n"
	for value, ok := range map[string]bool{
		"true": true, "false": true, `"/usr/bin/catatonit"`: true,
		`"catatonit"`: false, "1": false,
	} {
		err := sch.Validate(tomlToJSON(t, []byte(head+"init = "+value+"\n")))
		if (err == nil) != ok {
			t.Errorf("init = %s: schema.json gives %v, want accepted %v", value, err, ok)
		}
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(mustRead(t, "schema.json")))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func mustRead(t *testing.T, f string) []byte {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// tomlToJSON is what an editor's TOML plugin hands a JSON Schema validator.
func tomlToJSON(t *testing.T, data []byte) any {
	t.Helper()
	var m map[string]any
	if err := toml.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	j, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(string(j)))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
