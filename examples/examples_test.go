// Package examples holds runnable daemonbox specs; this test validates each.
package examples

import (
	"path/filepath"
	"testing"

	"github.com/daemonbox/daemonbox/spec"
)

func TestExamplesParse(t *testing.T) {
	files, err := filepath.Glob("*.toml")
	if err != nil || len(files) < 3 {
		t.Fatalf("want at least three examples, found %v (%v)", files, err)
	}
	for _, f := range files {
		if _, err := spec.Load(f); err != nil {
			t.Errorf("%s:\n%v", f, err)
		}
	}
}
