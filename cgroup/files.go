package cgroup

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// writeFile writes value to a cgroupfs file, which exists or not: cgroupfs
// never creates one, and takes each write whole.
func writeFile(dir, name, value string) error {
	if dir == "" {
		return fmt.Errorf("%s: the hierarchy is not mounted", name)
	}
	path := filepath.Join(dir, name)
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	for {
		_, err = unix.Write(fd, []byte(value))
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", value, path, err)
	}
	return nil
}

// readKey reads the number after key in a flat-keyed file such as
// memory.events ("oom_kill 3").
func readKey(dir, name, key string) (uint64, error) {
	path := filepath.Join(dir, name)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), " ")
		if ok && k == key {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: %s: %w", path, key, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("%s: no %s line", path, key)
}

// make creates the group's directories. On v2 it first enables, in each
// parent, the controllers that the root offers, as runc does: a group can
// use a controller only if its parent's cgroup.subtree_control names it.
// An enable the kernel refuses (a parent that holds processes, or a
// delegation without it) is not an error here; the limit that needed it
// fails to be written, and says so.
func (g *Group) make() error {
	if !g.v2 {
		for _, dir := range g.paths {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
		return nil
	}
	offered, err := os.ReadFile(filepath.Join(Root, "cgroup.controllers"))
	if err != nil {
		return err
	}
	enable := strings.Fields(string(offered))
	dir := Root
	var made []string
	for _, name := range strings.Split(g.path, "/") {
		enableControllers(dir, enable)
		dir = filepath.Join(dir, name)
		err := os.Mkdir(dir, 0o755)
		if err == nil {
			made = append(made, dir)
		} else if !errors.Is(err, fs.ErrExist) {
			for i := len(made) - 1; i >= 0; i-- {
				unix.Rmdir(made[i]) // nothing is in them yet
			}
			return err
		}
	}
	return nil
}

// enableControllers writes +name for each controller to dir's
// cgroup.subtree_control: all in one write, or one by one if the kernel
// refuses that, so that one it refuses does not keep the others off.
func enableControllers(dir string, names []string) {
	if len(names) == 0 {
		return
	}
	if writeFile(dir, "cgroup.subtree_control", "+"+strings.Join(names, " +")) == nil {
		return
	}
	for _, n := range names {
		writeFile(dir, "cgroup.subtree_control", "+"+n)
	}
}

// allProcs lists the processes in the group at dir and in every group
// below it. A group below that is removed while it is read is skipped.
func allProcs(dir string) ([]int, error) {
	var pids []int
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			var more []int
			more, err = readProcs(path)
			pids = append(pids, more...)
		}
		if err != nil && path != dir && removed(err) {
			return nil
		}
		return err
	})
	return pids, err
}

func readProcs(dir string) ([]int, error) {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if errors.Is(err, unix.EOPNOTSUPP) {
		// A threaded group (v2) lists threads, not processes; a daemon
		// that may write its own group can make one below it.
		data, err = os.ReadFile(filepath.Join(dir, "cgroup.threads"))
	}
	if err != nil {
		return nil, err
	}
	var pids []int
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		pid, err := strconv.Atoi(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%s/cgroup.procs: %w", dir, err)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// removed says whether err is a cgroup's going away.
func removed(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, unix.ENODEV)
}

// removeTree removes the empty group at dir and the groups below it,
// deepest first. A group whose last process has just been reaped can stay
// busy for a moment, so EBUSY is retried for about a second.
func removeTree(dir string) error {
	if err := unix.Rmdir(dir); err == nil || err == unix.ENOENT {
		return nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := removeTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return rmdirBusy(dir)
}

func rmdirBusy(dir string) error {
	wait := time.Millisecond
	for tries := 0; ; tries++ {
		err := unix.Rmdir(dir)
		switch {
		case err == nil || err == unix.ENOENT:
			return nil
		case err == unix.EINTR:
			continue
		case err == unix.EBUSY && tries < 10:
			time.Sleep(wait) // the kernel gives no event for it
			wait *= 2
			continue
		}
		return &os.PathError{Op: "rmdir", Path: dir, Err: err}
	}
}
