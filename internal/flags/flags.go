// Package flags reads a daemonbox command's flags the GNU way, as
// spf13/pflag read them before, with the same error texts.
package flags

import (
	"fmt"
	"strconv"
	"strings"
)

// A Set reads --name, --name=value, --name value and one-letter switches
// (-h, joined as -hV); flags among the operands; "--" ends the flags, and a
// lone "-" is an operand. Only switches and strings are needed. It is
// daemonbox's own because pflag links net (for its IP flags), whose
// initializers and pages cost about 0.25 ms at each start of the image
// (issue 20).
type Set struct {
	known   map[string]bool // name -> takes a value
	short   map[byte]string // one letter -> its flag's name
	values  map[string]string
	changed map[string]bool
	args    []string
	dash    int // operands before "--", or -1
}

// New returns an empty set.
func New() *Set {
	return &Set{known: map[string]bool{}, short: map[byte]string{}, values: map[string]string{}, changed: map[string]bool{}, dash: -1}
}

// Bool adds a switch; String adds a flag that takes a value.
func (f *Set) Bool(name string)   { f.known[name] = false }
func (f *Set) String(name string) { f.known[name] = true }

// Shorthand names a switch by one letter too: -h for --help.
func (f *Set) Shorthand(c byte, name string) { f.short[c] = name }

// Parse reads args.
func (f *Set) Parse(args []string) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			f.dash = len(f.args)
			f.args = append(f.args, args[i+1:]...)
			return nil
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			if name == "" || name[0] == '-' {
				return fmt.Errorf("bad flag syntax: %s", a)
			}
			takes, ok := f.known[name]
			switch {
			case !ok:
				return fmt.Errorf("unknown flag: --%s", name)
			case takes && !hasValue && i+1 == len(args):
				return fmt.Errorf("flag needs an argument: --%s", name)
			case takes && !hasValue:
				i++
				value = args[i]
			}
			if err := f.set(name, value, hasValue || takes); err != nil {
				return err
			}
		case len(a) > 1 && a[0] == '-':
			for j := 1; j < len(a); j++ { // -hV: switches may be joined; -h=false takes a value
				name, ok := f.short[a[j]]
				if !ok {
					return fmt.Errorf("unknown shorthand flag: %q in -%s", a[j], a[j:])
				}
				value, hasValue := strings.CutPrefix(a[j+1:], "=")
				if err := f.set(name, value, hasValue); err != nil {
					return err
				}
				if hasValue {
					break
				}
			}
		default:
			f.args = append(f.args, a)
		}
	}
	return nil
}

// set records a flag's value; a switch given no value is true.
func (f *Set) set(name, value string, hasValue bool) error {
	if f.known[name] || !hasValue {
		if !hasValue {
			value = "true"
		}
		f.values[name], f.changed[name] = value, true
		return nil
	}
	if _, err := strconv.ParseBool(value); err != nil {
		return fmt.Errorf("invalid argument %q for %q flag: %v", value, f.spelled(name), err)
	}
	f.values[name], f.changed[name] = value, true
	return nil
}

// spelled is how pflag names a flag in its messages: "-h, --help".
func (f *Set) spelled(name string) string {
	for c, n := range f.short {
		if n == name {
			return "-" + string(c) + ", --" + name
		}
	}
	return "--" + name
}

// GetBool is a switch's value: false unless given (or unknown).
func (f *Set) GetBool(name string) bool {
	v, _ := strconv.ParseBool(f.values[name])
	return v
}

// GetString is a flag's value, "" unless given.
func (f *Set) GetString(name string) string { return f.values[name] }

// Changed says whether the flag was given.
func (f *Set) Changed(name string) bool { return f.changed[name] }

// Args are the operands, flags taken out.
func (f *Set) Args() []string { return f.args }

// ArgsLenAtDash is how many operands came before "--", or -1 without it.
func (f *Set) ArgsLenAtDash() int { return f.dash }
