package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/daemonbox/daemonbox/export"
	"github.com/daemonbox/daemonbox/internal/flags"
	"github.com/daemonbox/daemonbox/sandbox"
)

// exportOptions are export's flags.
type exportOptions struct {
	format  string
	file    string
	bundle  string // oci: write DIR/config.json instead of stdout
	systemd export.SystemdOptions
}

// exportCmd runs "export --format F [flags] spec.toml".
func exportCmd(fs *flags.Set, args []string, stdout, stderr io.Writer) int {
	opt, problem := exportFlags(fs, args)
	if problem != "" {
		fmt.Fprintf(stderr, "daemonbox export: %s\n", problem)
		t, _ := findCommand("export")
		writeHelp(stderr, t)
		return sandbox.ExitFailure
	}
	if opt.format == "oci" {
		return exportOCI(opt.file, opt.bundle, stdout, stderr)
	}
	s, plan, err := sandbox.Load(opt.file)
	if err != nil {
		return report(stderr, err)
	}
	if err := export.WriteSystemd(stdout, s, plan, opt.systemd); err != nil {
		return report(stderr, err)
	}
	return 0
}

// exportFlags reads and checks export's flags.
func exportFlags(fs *flags.Set, args []string) (exportOptions, string) {
	opt := exportOptions{file: args[0]}
	opt.format = fs.GetString("format")
	opt.systemd.Output = fs.GetString("output")
	opt.bundle = fs.GetString("bundle")
	if v := fs.GetString("systemd-version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return opt, fmt.Sprintf("--systemd-version %q: expected a version number such as 252", v)
		}
		opt.systemd.Version = n
	}
	switch {
	case opt.format == "":
		return opt, "--format systemd or --format oci is required"
	case opt.format != "systemd" && opt.format != "oci":
		return opt, fmt.Sprintf("--format %q: expected systemd or oci", opt.format)
	case opt.format != "systemd" && (opt.systemd.Output != "" || opt.systemd.Version != 0):
		return opt, "--output and --systemd-version go with --format systemd"
	case opt.format != "oci" && opt.bundle != "":
		return opt, "--bundle goes with --format oci"
	}
	return opt, ""
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
		err = export.OCIMountPoints(plan)
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
	notes := export.OCINotes(c)
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
