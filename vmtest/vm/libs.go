package vm

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// libDirs are where the dynamic loader looks for a library that no
// RUNPATH names, on Debian's x86-64 layout (ld.so.conf.d) and others.
var libDirs = []string{
	"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
	"/lib64", "/usr/lib64", "/lib", "/usr/lib", "/usr/local/lib",
}

// libraries packs what the ELF file p needs to run: its interpreter and
// its DT_NEEDED libraries, each with its own. A file that is not ELF needs
// nothing. With strict unset, a library the host lacks is left out.
func (im *Image) libraries(p string, strict bool) error {
	f, err := elf.Open(p)
	if err != nil {
		return nil // not ELF: a script, a data file
	}
	defer f.Close()
	var need []string
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			b := make([]byte, prog.Filesz)
			if _, err := prog.ReadAt(b, 0); err != nil {
				return fmt.Errorf("pack %s: read its interpreter: %w", p, err)
			}
			need = append(need, strings.TrimRight(string(b), "\x00"))
		}
	}
	libs, _ := f.ImportedLibraries()
	dirs := runPath(f, filepath.Dir(p))
	for _, lib := range libs {
		found := findLib(lib, dirs)
		if found == "" {
			if strict {
				return fmt.Errorf("pack %s: it needs %s, found in none of %s", p, lib, strings.Join(append(dirs, libDirs...), ":"))
			}
			continue
		}
		need = append(need, found)
	}
	for _, n := range need {
		if err := im.hostFile(n, strict); err != nil {
			return err
		}
	}
	return nil
}

// runPath is the file's DT_RUNPATH or DT_RPATH, $ORIGIN expanded.
func runPath(f *elf.File, origin string) []string {
	var dirs []string
	for _, tag := range []elf.DynTag{elf.DT_RUNPATH, elf.DT_RPATH} {
		vals, _ := f.DynString(tag)
		for _, v := range vals {
			for _, d := range strings.Split(v, ":") {
				d = strings.ReplaceAll(strings.ReplaceAll(d, "${ORIGIN}", origin), "$ORIGIN", origin)
				if d != "" {
					dirs = append(dirs, d)
				}
			}
		}
	}
	return dirs
}

// findLib is the first of dirs, then libDirs, that holds lib.
func findLib(lib string, dirs []string) string {
	if filepath.IsAbs(lib) {
		return lib
	}
	for _, d := range append(dirs, libDirs...) {
		p := filepath.Join(d, lib)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
