package vmtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// check refuses, located and with the fix, what start would otherwise
// fail on half-way; start refuses it the same way before it does anything.
func TestCheckCatchesWhatStartHits(t *testing.T) {
	need(t)
	dir := rootDir(t)
	noexec := filepath.Join(dir, "daemon")
	os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o744) // executable by its owner, root, only
	// A program on a noexec mount: a tmpfs of the test's own, on its own directory.
	mnt := filepath.Join(dir, "noexec")
	os.Mkdir(mnt, 0o755)
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", syscall.MS_NOEXEC, "mode=0755"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	copyFile(t, probe, filepath.Join(mnt, "probe"), 0o755)
	cases := []struct {
		name, spec, want string
		code             int // start's exit: 127 and 126 as exec's failure, else 125
	}{
		{"missing command", "[process]\ncommand = [\"/usr/sbin/no-such-daemon\"]\n",
			":3:12: process.command[0]: /usr/sbin/no-such-daemon does not exist on the host, so exec would fail with ENOENT", 127},
		{"not executable", "[process]\ncommand = [\"" + noexec + "\"]\n[user]\nuser = \"nobody\"\n",
			":3:12: process.command[0]: " + noexec + " on the host is not executable by the daemon's uid 65534", 126},
		{"noexec mount", "[process]\ncommand = [\"" + mnt + "/probe\"]\n",
			":3:12: process.command[0]: " + mnt + "/probe on the host is on a noexec mount, so exec would fail with EACCES", 126},
		{"missing bind source", "[process]\ncommand = [\"PROBE\"]\n[[filesystem.bind]]\nsource = \"/var/lib/no-such-x\"\ntarget = \"/srv/x\"\n",
			":5:10: filesystem.bind[0].source: /var/lib/no-such-x: no such file or directory, so the mounts step would fail", 125},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pidfile := filepath.Join(dir, "d.pid")
			spec := fmt.Sprintf("name = %q\n%s[daemon]\npidfile = %q\n", ownName("check"), c.spec, pidfile)
			file := specFile(t, spec)
			for _, cmd := range []string{"check", "start"} {
				want := 125 // check validates; start exits as exec would, as run does
				if cmd == "start" {
					want = c.code
				}
				r := launch{cmd: cmd, file: file}.do(t)
				if r.code != want || !strings.Contains(r.stderr, c.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
					t.Errorf("%s: exit %d, stderr %q; want %d and one line with %q", cmd, r.code, r.stderr, want, c.want)
				}
			}
			if fileExists(pidfile) {
				t.Error("start left a pidfile")
			}
		})
	}
}

// A user's start without XDG_RUNTIME_DIR or a pidfile would fail making
// /run/daemonbox: check says so, with the fix, and passes once it is set.
func TestCheckRootlessPidfile(t *testing.T) {
	needRootless(t)
	l := launch{cmd: "check", rootless: true, env: []string{"PATH=/usr/bin:/bin"},
		spec: withUserNS(fmt.Sprintf("name = %q\n[process]\ncommand = [\"PROBE\"]\n", ownName("pidfile")))}
	r := l.do(t)
	want := fmt.Sprintf("start would put the pidfile in /run/daemonbox/%s.pid (uid %d has no XDG_RUNTIME_DIR", ownName("pidfile"), rootlessUID)
	if r.code != 125 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "set XDG_RUNTIME_DIR") {
		t.Errorf("exit %d, stderr %q; want 125 with %q", r.code, r.stderr, want)
	}
	run := rootDir(t)
	os.Chown(run, int(rootlessUID), int(rootlessGID))
	l.env = append(l.env, "XDG_RUNTIME_DIR="+run)
	if r := l.do(t); r.code != 0 {
		t.Errorf("with XDG_RUNTIME_DIR: exit %d, %q", r.code, r.stderr)
	}
}

// Under readonly = ["/"], a writable path is writable and its sibling is
// not (systemd's ReadWritePaths=).
func TestWritableUnderReadonlyRoot(t *testing.T) { eachMode(t, writableUnderReadonly) }

func writableUnderReadonly(t *testing.T, m mode) {
	dir := rootDir(t)
	for _, d := range []string{"rw", "ro"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
		if m.rootless {
			os.Chown(filepath.Join(dir, d), int(rootlessUID), int(rootlessGID))
		}
	}
	spec := fmt.Sprintf("[process]\ncommand = [\"PROBE\", \"isolation\", \"write=%[1]s/rw/f\", \"write=%[1]s/ro/f\", \"write=/f\"]\n[filesystem]\nreadonly = [\"/\"]\nwritable = [\"%[1]s/rw\"]\n", dir)
	got := tries(m.launch(spec).ok(t))
	if e := got["write="+dir+"/rw/f"]; e != 0 {
		t.Errorf("the writable path: errno %d, want writable", e)
	}
	for _, p := range []string{dir + "/ro/f", "/f"} {
		if e := got["write="+p]; e != int(syscall.EROFS) {
			t.Errorf("%s: errno %d, want EROFS", p, e)
		}
	}
	// In a chroot the path is the root's own, resolved inside it: a link
	// there to a host directory leads to the root's copy, not the host's.
	root := jail(t, "data/rw", "data/ro", "dev")
	os.Symlink("/data/rw", filepath.Join(root, "link"))
	if m.rootless {
		os.Chown(filepath.Join(root, "data/rw"), int(rootlessUID), int(rootlessGID))
	}
	spec = fmt.Sprintf("[process]\ncommand = [\"/probe\", \"isolation\", \"write=/data/rw/f\", \"write=/data/ro/f\"]\n[filesystem]\nroot = %q\nreadonly = [\"/\"]\nwritable = [\"/link\"]\n", root)
	got = tries(m.launch(spec).ok(t))
	if got["write=/data/rw/f"] != 0 || got["write=/data/ro/f"] != int(syscall.EROFS) || !fileExists(filepath.Join(root, "data/rw/f")) {
		t.Errorf("in a chroot: %v; want /data/rw writable in the root's files, /data/ro EROFS", got)
	}
}

// [directories] are made with the daemon's owner and the spec's mode,
// writable under a read-only root, named in the environment; the runtime
// one is removed when the daemon ends. process.env_file's values reach the
// daemon, read by daemonbox from a file the daemon's user cannot read.
func TestDirectoriesAndEnvFile(t *testing.T) {
	need(t)
	name := ownName("dirs")
	dirs := map[string]string{"state": "/var/lib/" + name, "runtime": "/run/" + name, "logs": "/var/log/" + name, "cache": "/var/cache/" + name}
	t.Cleanup(func() {
		for _, d := range dirs {
			os.RemoveAll(d)
		}
	})
	envFile := filepath.Join(rootDir(t), "web.env")
	os.WriteFile(envFile, []byte("# the daemon's settings\nGREETING=\"hello world\"\n"), 0o600)
	spec := fmt.Sprintf(`[process]
command = ["PROBE", "isolation", "write=%s/f", "write=%s/f", "write=%s/f", "write=%s/f", "write=/var/lib/f"]
env_file = %q
[user]
user = "nobody"
[filesystem]
readonly = ["/"]
[directories]
state = [%q]
runtime = [%q]
logs = [%q]
cache = [%q]
mode = 0o750
`, dirs["state"], dirs["runtime"], dirs["logs"], dirs["cache"], envFile, name, name, name, name)
	got := tries(launch{spec: spec}.ok(t))
	for kind, d := range dirs {
		if e := got["write="+d+"/f"]; e != 0 {
			t.Errorf("%s %s: errno %d, want writable", kind, d, e)
		}
		var st syscall.Stat_t
		err := syscall.Stat(d, &st)
		switch {
		case kind == "runtime":
			if err == nil {
				t.Errorf("the runtime directory %s outlived the daemon", d)
			}
		case err != nil || st.Uid != 65534 || st.Mode&0o7777 != 0o750:
			t.Errorf("%s: %v, owner %d, mode %#o; want 65534, 0750", d, err, st.Uid, st.Mode&0o7777)
		}
	}
	if e := got["write=/var/lib/f"]; e != int(syscall.EROFS) {
		t.Errorf("/var/lib itself: errno %d, want EROFS", e)
	}
	env := launch{spec: strings.Replace(spec, `"PROBE", "isolation",`, `"PROBE", `, 1)}.ok(t).env(t)
	if env["GREETING"] != "hello world" || env["STATE_DIRECTORY"] != dirs["state"] || env["RUNTIME_DIRECTORY"] != dirs["runtime"] {
		t.Errorf("environment %q", env)
	}
	// explain names where the file's values come from, and shows none.
	r := launch{cmd: "explain", spec: spec}.do(t)
	if r.code != 0 || !strings.Contains(r.stdout, "GREETING=(from "+envFile+")") || strings.Contains(r.stdout, "hello world") {
		t.Errorf("explain: exit %d\n%s", r.code, r.stdout)
	}
}
