package main

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/daemonbox/daemonbox/export"
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
func exportCmd(args []string, stdout, stderr io.Writer) int {
	opt, problem := parseExportArgs(args)
	if problem != "" {
		fmt.Fprintf(stderr, "daemonbox export: %s\n", problem)
		c, _ := findCommand("export")
		writeHelp(stderr, c)
		return sandbox.ExitFailure
	}
	switch opt.format {
	case "systemd":
	case "oci":
		return exportOCI(opt.file, opt.bundle, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "daemonbox export: --format %q: expected systemd or oci\n", opt.format)
		return sandbox.ExitFailure
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

// parseExportArgs reads "--format F [--output FILE] [--systemd-version N]
// spec.toml", each flag as "--flag value" or "--flag=value".
func parseExportArgs(args []string) (exportOptions, string) {
	var opt exportOptions
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, value, inline := strings.Cut(a, "=")
		if !strings.HasPrefix(a, "-") {
			if opt.file != "" {
				return opt, "expected one spec file"
			}
			opt.file = a
			continue
		}
		if !inline {
			if i+1 >= len(args) {
				return opt, a + " needs a value"
			}
			i++
			value = args[i]
		}
		if problem := opt.set(name, value); problem != "" {
			return opt, problem
		}
	}
	switch {
	case opt.format == "":
		return opt, "--format systemd or --format oci is required"
	case opt.file == "":
		return opt, "expected one spec file"
	case opt.format != "systemd" && (opt.systemd.Output != "" || opt.systemd.Version != 0):
		return opt, "--output and --systemd-version go with --format systemd"
	case opt.format != "oci" && opt.bundle != "":
		return opt, "--bundle goes with --format oci"
	}
	return opt, ""
}

func (o *exportOptions) set(name, value string) string {
	switch name {
	case "--format":
		o.format = value
	case "--output":
		o.systemd.Output = value
	case "--bundle":
		o.bundle = value
	case "--systemd-version":
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return fmt.Sprintf("--systemd-version %q: expected a version number such as 252", value)
		}
		o.systemd.Version = n
	default:
		return "unknown flag " + name
	}
	return ""
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
