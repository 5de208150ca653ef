package sandbox

import (
	"errors"
	"io"
	"os"
	"slices"

	"github.com/daemonbox/daemonbox/hostpath"
	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

// maxEnvFile bounds process.env_file: an environment is a few KiB, and the
// kernel refuses an argv and environment past a quarter of the stack limit.
const maxEnvFile = 1 << 20

// envFile reads process.env_file with daemonbox's privilege, before any
// step, and puts its values in the daemon's environment (see
// spec.Environ for the order). The file is opened through the same guard
// as log files, so that the daemon's user cannot swap a directory on its
// path for a link to a secret it would then read in its environment.
func (r *resolver) envFile(p *Plan) {
	name := r.s.Process.EnvFile
	if name == "" {
		return
	}
	const key = "process.env_file"
	data, err := readGuarded(name, p.PathGuard())
	if err != nil {
		r.fail(key, "%v", err)
		return
	}
	env, err := spec.ParseEnvFile(string(data))
	var lerr *spec.EnvFileError
	if errors.As(err, &lerr) {
		r.fail(key, "%s:%d: %s", name, lerr.Line, lerr.Msg)
		return
	}
	p.Env = r.s.Environ(r.h.LookupEnv, env)
	p.EnvFile = name
	for k := range env {
		if !slices.Contains(r.s.Process.InheritEnv, k) { // inherit_env's value wins
			p.EnvFileNames = append(p.EnvFileNames, k)
		}
	}
	slices.Sort(p.EnvFileNames)
}

// readGuarded reads a regular file of at most maxEnvFile bytes at path,
// opened as hostpath opens a log file for g (nil: no guard).
func readGuarded(path string, g *hostpath.Guard) ([]byte, error) {
	fd, err := hostpath.OpenFile(path, unix.O_RDONLY, 0, g)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, &os.PathError{Op: "read", Path: path, Err: errors.New("not a regular file")}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxEnvFile+1))
	if err == nil && len(data) > maxEnvFile {
		err = &os.PathError{Op: "read", Path: path, Err: errors.New("larger than 1 MiB")}
	}
	return data, err
}
