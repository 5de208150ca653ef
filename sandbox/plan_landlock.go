package sandbox

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/daemonbox/daemonbox/hostpath"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// landlock carries [landlock] into the launch, records the kernel's ABI for
// explain, and refuses before any side effect what the launch step would
// refuse before exec: mode = "required" on a kernel without what the rules
// need, and a command that execute does not cover, whose exec would fail
// with EACCES.
func (r *resolver) landlock(p *Plan) {
	if !r.s.Landlock.Set {
		return
	}
	l := r.s.Landlock
	p.Landlock = &l
	probe := r.h.Landlock
	if probe == nil {
		probe = LandlockABI
	}
	p.LandlockABI = probe()
	if l.Mode == spec.LandlockRequired {
		if msg := LandlockMissing(&l, p.LandlockABI); msg != "" {
			r.fail("landlock.mode", "\"required\", but %s", msg)
		}
	}
	if len(p.Argv) > 0 && !executable(p.Root, p.Argv[0], l.Execute) {
		r.fail("landlock.execute", "does not cover the command %s, so its exec would fail with EACCES", p.Argv[0])
	}
	r.rulesOutsideWrite(&l)
}

// rulesOutsideWrite refuses a read or execute path at or beneath a write
// path: the daemon could replace it with a symlink, and the next launch's
// rule would follow it wherever it points.
func (r *resolver) rulesOutsideWrite(l *spec.Landlock) {
	for _, k := range []struct {
		key   string
		paths []string
	}{{"landlock.read", l.Read}, {"landlock.execute", l.Execute}} {
		for i, path := range k.paths {
			for _, w := range l.Write {
				if beneathAny(path, []string{w}) {
					r.fail(fmt.Sprintf("%s[%d]", k.key, i), "%s lies in the write path %s: the daemon could replace it, and the rule would follow what it put there", path, w)
				}
			}
		}
	}
}

// executable reports whether path, inside root, is beneath one of dirs as
// written or once its symlinks are resolved inside the root (Landlock sees
// the file the kernel reaches: /bin/sh may be /usr/bin/dash).
func executable(root, path string, dirs []string) bool {
	if beneathAny(path, dirs) {
		return true
	}
	real, ok := resolveInRoot(root, path)
	return ok && beneathAny(real, dirs)
}

func beneathAny(path string, dirs []string) bool {
	for _, d := range dirs {
		if hostpath.Within(path, d) {
			return true
		}
	}
	return false
}

// resolveInRoot is where path leads inside root, symlinks followed as the
// chrooted daemon would follow them.
func resolveInRoot(root, path string) (string, bool) {
	fd, err := openInRootPath(root, path, unix.O_PATH)
	if err != nil {
		return "", false
	}
	defer unix.Close(fd)
	host, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return "", false
	}
	if root == "/" {
		return host, true
	}
	rel, err := filepath.Rel(root, host)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return filepath.Join("/", rel), true
}

// HostPathInRoot is the host's path of p resolved inside root, symlinks
// followed as the chrooted daemon would follow them: what an export must
// name as a mount's source for a runtime that resolves it on the host.
func HostPathInRoot(root, p string) (string, bool) {
	in, ok := resolveInRoot(root, p)
	if !ok {
		return "", false
	}
	return filepath.Join(root, in), true
}

func openInRootPath(root, path string, flags uint64) (int, error) {
	rootFd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(rootFd)
	how := unix.OpenHow{Flags: flags | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT}
	return unix.Openat2(rootFd, path, &how)
}

// landlockInterpreter is the command's interpreter (an ELF program's
// loader, or a script's #! line) when execute does not cover it: the kernel
// opens it for exec too, so the daemon's exec would fail with EACCES. The
// file is read from the host as it is now; the mounts may change it, so
// this is a warning, not an error.
func landlockInterpreter(p *Plan) string {
	if p.Landlock == nil || len(p.Argv) == 0 {
		return ""
	}
	interp := interpreter(p.Root, p.Argv[0])
	if interp == "" || !filepath.IsAbs(interp) || executable(p.Root, interp, p.Landlock.Execute) {
		return ""
	}
	return interp
}

func interpreter(root, path string) string {
	fd, err := openInRootPath(root, path, unix.O_RDONLY)
	if err != nil {
		return ""
	}
	defer unix.Close(fd)
	head := make([]byte, 4096)
	n, _ := unix.Pread(fd, head, 0)
	head = head[:max(n, 0)]
	if line, ok := bytes.CutPrefix(head, []byte("#!")); ok {
		line, _, _ = bytes.Cut(line, []byte("\n"))
		if fields := strings.Fields(string(line)); len(fields) > 0 {
			return fields[0]
		}
		return ""
	}
	return elfInterpreter(head)
}

// elfInterpreter is the PT_INTERP path of a 64-bit little-endian ELF file
// (amd64, arm64) whose program headers and that path lie in head, its
// first 4 KiB, where linkers put them; "" otherwise. By hand rather than
// with debug/elf, which costs every launch its package's start-up and a
// parse of the section headers.
func elfInterpreter(head []byte) string {
	if len(head) < 64 || string(head[:4]) != "\x7fELF" || head[4] != 2 || head[5] != 1 {
		return ""
	}
	le := binary.LittleEndian
	size := uint64(len(head))
	phoff, entsize, num := le.Uint64(head[32:]), uint64(le.Uint16(head[54:])), uint64(le.Uint16(head[56:]))
	if phoff >= size || entsize < 56 {
		return ""
	}
	for i := uint64(0); i < num && phoff+(i+1)*entsize <= size; i++ {
		ph := head[phoff+i*entsize:]
		if le.Uint32(ph) != 3 { // PT_INTERP
			continue
		}
		off, n := le.Uint64(ph[8:]), le.Uint64(ph[32:])
		if off >= size || n > size-off {
			return ""
		}
		return string(bytes.TrimRight(head[off:off+n], "\x00"))
	}
	return ""
}
