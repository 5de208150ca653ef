package supervisor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/daemonbox/daemonbox/cgroup"
	"github.com/daemonbox/daemonbox/pidfile"
	"github.com/daemonbox/daemonbox/sandbox"
	"golang.org/x/sys/unix"
)

// List prints the daemons that daemonbox knows of on this machine, from
// the directory where start puts pidfiles when a spec names none (dir):
// each NAME.pid (its lock says whether a supervisor lives), NAME.pid.state
// (a failure its supervisor recorded) and NAME.cgroup (an in-place run
// with [resources]). As root it also reads the rootless users' directories,
// /run/user/UID/daemonbox. A daemon whose spec puts its pidfile elsewhere
// (daemon.pidfile), and an in-place run without [resources], leave nothing
// there, and are not listed.
func List(w io.Writer, dir string) int {
	dirs := []string{dir}
	if os.Geteuid() == 0 {
		users, _ := filepath.Glob("/run/user/*/daemonbox")
		for _, u := range users {
			if usersOwn(u) {
				dirs = append(dirs, u)
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPID\tUPTIME\tSTATE")
	for _, d := range dirs {
		for _, e := range listDir(d, d != dir) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.name, e.pid, e.uptime, e.state)
		}
	}
	tw.Flush()
	return 0
}

// usersOwn reports whether dir, /run/user/UID/daemonbox, and its parent
// are directories of UID's, not symlinks: root reads in it only what that
// user could read anyway.
func usersOwn(dir string) bool {
	uid, err := strconv.ParseUint(filepath.Base(filepath.Dir(dir)), 10, 32)
	if err != nil {
		return false
	}
	for _, d := range []string{filepath.Dir(dir), dir} {
		var st unix.Stat_t
		if unix.Lstat(d, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || uint64(st.Uid) != uid {
			return false
		}
	}
	return true
}

// listed is one row of List.
type listed struct{ name, pid, uptime, state string }

// listDir reads one directory's pidfiles, state files and cgroup records;
// other's: the directory is a user's, whose uid the names are given.
func listDir(dir string, other bool) []listed {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []listed
	for _, e := range ents {
		name, kind := listName(e.Name())
		if kind == "" || seen[name] {
			continue
		}
		seen[name] = true
		row := listOne(dir, name, other)
		if row.state == "" {
			continue
		}
		if other {
			row.name += " (uid " + filepath.Base(filepath.Dir(dir)) + ")"
		}
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// listName is the daemon's name in a file name of the directory, and what
// the file is; "" for a file of no daemon.
func listName(file string) (name, kind string) {
	if strings.HasPrefix(file, ".") {
		return "", "" // a version being written
	}
	for _, suffix := range []string{".pid" + pidfile.StateSuffix, ".pid", ".cgroup"} {
		if n, ok := strings.CutSuffix(file, suffix); ok && n != "" {
			return n, suffix
		}
	}
	return "", ""
}

// listOne describes the daemon NAME from its files in dir; a row with no
// state is one with nothing to say (a record of a cgroup that is gone).
func listOne(dir, name string, other bool) listed {
	path := filepath.Join(dir, name+".pid")
	row := listed{name: name, pid: "-", uptime: "-"}
	st, err := pidfile.Read(path, nil)
	var rec *record
	if text, err := pidfile.ReadState(path, nil); err == nil {
		if r, err := parseRecord(text); err == nil {
			rec = &r
		}
	}
	switch {
	case errors.Is(err, os.ErrNotExist) && rec != nil && rec.state == recFailed:
		row.state = rec.failedLine()
	case errors.Is(err, os.ErrNotExist):
		return listInPlace(dir, name, row)
	case err != nil && other: // its text may quote a file of root's
		row.state = "unknown: its pidfile cannot be read"
	case err != nil:
		row.state = "unknown: " + err.Error()
	case !st.Running:
		row.state = "dead (its supervisor was killed; a pidfile remains)"
	case st.PID == 0 && rec != nil:
		row.state = "restarting (" + rec.history() + ")"
	case st.PID == 0:
		row.state = "starting"
	default:
		row.pid, row.uptime, row.state = strconv.Itoa(st.PID), uptimeText(st.PID), "running"
		if rec != nil {
			row.state += " (" + rec.history() + ")"
		}
	}
	return row
}

// listInPlace describes a daemon that ran in place with [resources], from
// its cgroup record: running while the cgroup it names holds a process.
func listInPlace(dir, name string, row listed) listed {
	p := &sandbox.Plan{}
	// Root "/" and uid 0: no guard, as for any file read with root's eyes;
	// the record is only read.
	p.Name, p.PidfileDir, p.Root = name, dir, "/"
	rec, err := readRecord(p)
	if err != nil || rec == nil {
		return row
	}
	g, err := cgroup.New(rec.cgroup)
	if err != nil || !g.Exists() {
		return row
	}
	p.Cgroup.Path = rec.cgroup
	pids, err := g.Procs()
	if err != nil || len(pids) == 0 || !rec.names(p, g) {
		return row
	}
	row.pid, row.uptime = strconv.Itoa(pids[0]), uptimeText(pids[0])
	row.state = fmt.Sprintf("running in place (no supervisor; cgroup %s: %d processes)", g, len(pids))
	return row
}

func uptimeText(pid int) string {
	up, err := uptime(pid)
	if err != nil {
		return "-"
	}
	return up.Round(time.Second).String()
}
