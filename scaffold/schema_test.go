package scaffold

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	gotoml "github.com/pelletier/go-toml/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// What daemonbox spec writes is valid against the editors' schema too.
func TestOutputMatchesSchema(t *testing.T) {
	data, err := os.ReadFile("../spec/schema.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	fromUnit, err := FromUnit("web.service", []byte(webUnit), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{Starter("", nil), Starter("web", []string{"/usr/sbin/nginx", "-g", "daemon off;"}), fromUnit} {
		var m map[string]any
		if err := gotoml.Unmarshal([]byte(text), &m); err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(m)
		v, _ := jsonschema.UnmarshalJSON(strings.NewReader(string(j)))
		if err := sch.Validate(v); err != nil {
			t.Errorf("%v\n%s", err, text)
		}
	}
}
