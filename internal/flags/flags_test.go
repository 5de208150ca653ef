package flags

import (
	"slices"
	"strings"
	"testing"
)

func set() *Set {
	f := New()
	f.Bool("help")
	f.Bool("version")
	f.Bool("detach")
	f.String("format")
	f.Shorthand('h', "help")
	f.Shorthand('V', "version")
	return f
}

// Flags in each spelling, among operands, and up to "--".
func TestParse(t *testing.T) {
	f := set()
	err := f.Parse([]string{"a", "--format", "oci", "-", "--detach", "--format=systemd", "b", "-hV", "--", "--detach", "-x"})
	if err != nil {
		t.Fatal(err)
	}
	if f.GetString("format") != "systemd" || !f.GetBool("detach") || !f.GetBool("help") || !f.GetBool("version") {
		t.Errorf("values %v", f.values)
	}
	if got := f.Args(); !slices.Equal(got, []string{"a", "-", "b", "--detach", "-x"}) || f.ArgsLenAtDash() != 3 {
		t.Errorf("args %q, at dash %d", got, f.ArgsLenAtDash())
	}
	if f.Changed("nosuch") || !f.Changed("format") {
		t.Error("Changed")
	}
	v := set()
	if err := v.Parse([]string{"-V=true", "-h=false"}); err != nil || !v.GetBool("version") || v.GetBool("help") || !v.Changed("help") {
		t.Errorf("-V=true -h=false: %v, %v", err, v.values)
	}
	g := set()
	if err := g.Parse([]string{"--detach=false", "x"}); err != nil || g.GetBool("detach") || !g.Changed("detach") || g.ArgsLenAtDash() != -1 {
		t.Errorf("--detach=false: %v, %v", err, g.values)
	}
}

// The errors read as pflag's did.
func TestErrors(t *testing.T) {
	for args, want := range map[string]string{
		"--bogus":         "unknown flag: --bogus",
		"--bogus=1":       "unknown flag: --bogus",
		"--format":        "flag needs an argument: --format",
		"-x":              "unknown shorthand flag: 'x' in -x",
		"-hx":             "unknown shorthand flag: 'x' in -x",
		"--detach=maybe":  `invalid argument "maybe" for "--detach" flag: strconv.ParseBool: parsing "maybe": invalid syntax`,
		"--format= --x=1": "unknown flag: --x",
		"---detach":       "bad flag syntax: ---detach",
		"--=x":            "bad flag syntax: --=x",
		"--help=x":        `invalid argument "x" for "-h, --help" flag: strconv.ParseBool: parsing "x": invalid syntax`,
		"-h=maybe":        `invalid argument "maybe" for "-h, --help" flag: strconv.ParseBool: parsing "maybe": invalid syntax`,
	} {
		err := set().Parse(strings.Fields(args))
		if err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %q", args, err, want)
		}
	}
}
