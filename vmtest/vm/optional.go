package vm

import (
	"os"
	"path/filepath"
	"strings"
)

// optional are host programs that some kernel tests run: each is packed,
// with its libraries and the trees it reads, when the host has it, and
// its tests skip (or fail, in strict mode) when it has not, as they do on
// the host itself. So the guest runs what a root run on this host runs.
var optional = []struct {
	program string
	trees   []string
}{
	{"/usr/bin/install", nil}, // coreutils': Debian's busybox has none, and the examples' scripts use it
	{"/usr/bin/perl", []string{"/usr/lib/x86_64-linux-gnu/perl-base"}}, // POSIX, IO::Socket::INET
	{"/usr/bin/setpriv", nil},
	{"/usr/bin/nsenter", nil},
	{"/usr/sbin/logrotate", nil},
	{"/usr/sbin/runc", nil},
	// TestOCIExportRunc compares with crun too where the cgroups are pure
	// v2, as the guest's are: Debian 12's crun refuses the hybrid ones of
	// many hosts, so the guest may be the only place its comparison runs.
	{"/usr/bin/crun", nil},
	{"/usr/sbin/nginx", []string{"/etc/nginx", "/usr/share/nginx", "/usr/lib/nginx"}},
	{"/usr/bin/redis-server", nil},
	{"/usr/bin/redis-cli", nil},
	{"/usr/bin/redis-benchmark", nil},
	{"/usr/bin/python3", nil},   // its library: pythonLib
	{"/usr/bin/catatonit", nil}, // PID 1 of the one-image launch (namespaces.init)
	{"/usr/bin/tini", nil},      // refused as PID 1, which explain says
}

// emptyDirs are directories that the packed daemons expect.
var emptyDirs = []string{"/var/lib/nginx", "/var/log/nginx", "/var/www", "/var/lib/redis"}

// pythonSkip are the parts of Python's library that no daemon of the
// tests imports and that would make up half of the image.
var pythonSkip = map[string]bool{
	"test": true, "idlelib": true, "tkinter": true, "lib2to3": true, "ensurepip": true,
	"distutils": true, "pydoc_data": true, "turtledemo": true, "unittest": true,
}

func packOptional(im *Image) error {
	for _, o := range optional {
		if _, err := os.Stat(o.program); err != nil {
			continue
		}
		if err := im.HostFile(o.program); err != nil {
			return err
		}
		for _, tree := range o.trees {
			if _, err := os.Stat(tree); err == nil {
				if err := im.HostTree(tree, nil); err != nil {
					return err
				}
			}
		}
	}
	for _, d := range emptyDirs {
		im.Dir(d, 0o755)
	}
	return packPython(im)
}

// packPython packs the library of the host's /usr/bin/python3
// (python3.11 -> /usr/lib/python3.11), less pythonSkip and the static
// library that embedding needs.
func packPython(im *Image) error {
	real, err := filepath.EvalSymlinks("/usr/bin/python3")
	if err != nil {
		return nil
	}
	lib := filepath.Join("/usr/lib", filepath.Base(real))
	if _, err := os.Stat(lib); err != nil {
		return nil
	}
	return im.HostTree(lib, func(rel string) bool {
		first, _, _ := strings.Cut(rel, string(filepath.Separator))
		return pythonSkip[first] || strings.HasPrefix(first, "config-")
	})
}
