package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// OCIJSON is c as config.json holds it: indented, with a final newline.
func OCIJSON(c *specs.Spec) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "\t")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("export: encode config.json: %v", err)
	}
	return b.Bytes(), nil
}

// OCIBundle writes c as dir/config.json, making dir (0755) if it is
// missing, and for a spec without a chroot the empty dir/rootfs that the
// host's "/" is bound over. A chroot's root.path is the spec's root, an
// absolute path on this host, which runc takes as it is: to carry the
// bundle to another machine, copy the root to dir/rootfs and set
// root.path to "rootfs". An existing config.json is replaced, atomically.
func OCIBundle(dir string, c *specs.Spec) error {
	data, err := OCIJSON(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("export: bundle: %v", err)
	}
	if c.Root != nil && c.Root.Path == OCIHostRoot {
		if err := os.MkdirAll(filepath.Join(dir, OCIHostRoot), 0o755); err != nil {
			return fmt.Errorf("export: bundle: %v", err)
		}
	}
	tmp, err := os.CreateTemp(dir, ".config.json-")
	if err != nil {
		return fmt.Errorf("export: bundle: %v", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("export: bundle: write %s: %v", tmp.Name(), err)
	}
	os.Chmod(tmp.Name(), 0o644)
	final := filepath.Join(dir, "config.json")
	if err := os.Rename(tmp.Name(), final); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("export: bundle: %v", err)
	}
	return nil
}
