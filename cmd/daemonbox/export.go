package main

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/daemonbox/daemonbox/export"
	"github.com/daemonbox/daemonbox/sandbox"
)

// exportOptions are export's flags.
type exportOptions struct {
	format string // "oci" or "systemd"
	bundle string // oci: write DIR/config.json instead of stdout
}

// parseExportArgs reads "--format F [--bundle DIR] spec.toml"; each flag
// also as --flag=value.
func parseExportArgs(args []string) (file string, opt exportOptions, ok bool) {
	for i := 0; i < len(args); i++ {
		name, value, inline := strings.Cut(args[i], "=")
		var dst *string
		switch name {
		case "--format":
			dst = &opt.format
		case "--bundle":
			dst = &opt.bundle
		}
		switch {
		case dst != nil && inline:
			*dst = value
		case dst != nil && i+1 < len(args):
			i++
			*dst = args[i]
		case strings.HasPrefix(args[i], "-") || file != "":
			return "", opt, false
		default:
			file = args[i]
		}
	}
	return file, opt, file != "" && opt.format != ""
}

// exportCmd runs "daemonbox export": the spec resolved against this host,
// as daemonbox run would apply it, written in another tool's terms.
func exportCmd(args []string, stdout, stderr io.Writer) int {
	file, opt, ok := parseExportArgs(args)
	if !ok || (opt.bundle != "" && opt.format != "oci") {
		fmt.Fprintf(stderr, "daemonbox export: expected --format oci|systemd and one spec file (--bundle DIR only with oci)\n%s", usage)
		return sandbox.ExitFailure
	}
	switch opt.format {
	case "oci":
		return exportOCI(file, opt.bundle, stdout, stderr)
	case "systemd":
		fmt.Fprintln(stderr, "daemonbox: export --format systemd: not supported yet")
		return sandbox.ExitFailure
	}
	fmt.Fprintf(stderr, "daemonbox export: unknown format %q (oci or systemd)\n", opt.format)
	return sandbox.ExitFailure
}

// exportOCI writes the config to stdout, or the bundle, and says on stderr
// what it does not carry.
func exportOCI(file, bundle string, stdout, stderr io.Writer) int {
	s, plan, err := sandbox.Load(file)
	if err != nil {
		return report(stderr, err)
	}
	c, err := export.OCI(s, plan)
	if err == nil {
		// A runtime cannot make them once the root is read-only.
		err = sandbox.MakeMountPoints(&plan.Launch)
	}
	if err == nil && bundle != "" {
		err = export.OCIBundle(bundle, c)
	} else if err == nil {
		var data []byte
		if data, err = export.OCIJSON(c); err == nil {
			_, err = stdout.Write(data)
		}
	}
	if err != nil {
		return report(stderr, err)
	}
	notes := export.OCINotCarried(s, plan)
	keys := make([]string, 0, len(notes))
	for k := range notes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(stderr, "daemonbox: export: %s not carried: %s\n", k, notes[k])
	}
	return 0
}
