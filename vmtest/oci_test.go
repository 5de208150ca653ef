package vmtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The OCI export is checked by running it: the probe runs under daemonbox
// and, from the exported bundle, under an OCI runtime, and the two reports
// are compared line by line. What differs because of the runtime, and only
// that, is listed in ociInherent with the reason (README, "Export to an OCI
// runtime", lists the same).

// ociInherent are the report keys whose values differ between daemonbox
// and runc for reasons of the runtime's, not of the export's: a key alone,
// or after a case's name or a runtime's and a colon for that one only.
var ociInherent = map[string]string{
	// daemonbox is PID 1 of the namespace (init = true) and the daemon its
	// child, in a session of its own; runc has no init, so the daemon is
	// PID 1 and leads runc's session for it.
	"pid": "runc has no init: the daemon is PID 1", "ppid": "runc has no init: the daemon is PID 1",
	"sid": "runc has no init: the daemon is PID 1", "pgrp": "runc has no init: the daemon is PID 1",
	"procs": "runc has no init: one process in the namespace, not two",
	// OCI has no signal dispositions.
	"sigign": "OCI has no signal dispositions: signals.ignore is lost",
	// libseccomp's filter kills a call of another ABI (its bad-arch action);
	// daemonbox answers ENOSYS.
	"call x32_getpid": "libseccomp kills a call of another ABI (SIGSYS), daemonbox answers ENOSYS",
	// The same for i386, on a kernel with IA32 emulation (Debian's, in the
	// VM); on one without, both answer ENOSYS.
	"call i386_getpid": "libseccomp kills a call of another ABI (SIGSYS), daemonbox answers ENOSYS",
	// runc masks a directory with an empty read-only tmpfs, daemonbox with
	// one of mode 000: either way nothing is read.
	"try read=/secret/s": "runc's masked directory is empty (ENOENT), daemonbox's unreadable (EACCES)",
	// runc gives a tmpfs the mode of the directory it covers, whatever its
	// mode= option; the chroot's /tmp is 0755, and daemonbox's tmpfs 1777.
	"chroot:try write=/tmp/x":    "runc gives a tmpfs the covered directory's mode (0755 here), not mode=1777",
	"userns:try write=/tmp/x":    "runc gives a tmpfs the covered directory's mode (0755 here), not mode=1777",
	"chroot-rw:try write=/tmp/x": "runc gives a tmpfs the covered directory's mode (0755 here), not mode=1777",
	// A number the profile does not name gets its default action from
	// crun; runc answers ENOSYS above the profile's highest number, as
	// daemonbox answers a number its table does not know.
	"crun:call nr1000": "crun gives a number the profile does not name the default action, not ENOSYS",
}

// ociNormal rewrites a report into comparable lines: the standard fds by
// number and close-on-exec flag only (each side has its own pipes and
// /dev/null), namespaces as "host" or "new", and runc's HOME, which it
// adds when the environment has none, dropped.
func ociNormal(t *testing.T, r report) map[string][]string {
	out := map[string][]string{}
	for key, vs := range r {
		for _, v := range vs {
			k := key
			switch k {
			case "fd":
				f := strings.Fields(v)
				v = f[0] + " " + f[len(f)-1]
			case "ns":
				name, ino, _ := strings.Cut(v, " ")
				v = name + " new"
				if ino == hostNS(t, name) {
					v = name + " host"
				}
			case "env":
				if strings.HasPrefix(hexString(v), "HOME=") {
					continue
				}
			case "call", "try":
				name, rest, _ := strings.Cut(v, " ")
				k, v = k+" "+name, rest
			}
			out[k] = append(out[k], v)
		}
	}
	return out
}

func hexString(v string) string {
	b := make([]byte, 0, len(v)/2)
	for i := 0; i+1 < len(v); i += 2 {
		var c byte
		fmt.Sscanf(v[i:i+2], "%02x", &c)
		b = append(b, c)
	}
	return string(b)
}

// ociCompare fails t for each key of case name whose values differ between the two
// reports and that ociInherent does not list.
func ociCompare(t *testing.T, name, runtime string, db, oci report) {
	t.Helper()
	a, b := ociNormal(t, db), ociNormal(t, oci)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	for k := range keys {
		if slices.Equal(a[k], b[k]) {
			continue
		}
		why, ok := ociInherent[k]
		if !ok {
			why, ok = ociInherent[name+":"+k]
		}
		if !ok {
			why, ok = ociInherent[runtime+":"+k]
		}
		if ok {
			t.Logf("%s: %s differs, as expected (%s): daemonbox %q, %s %q", runtime, k, why, a[k], runtime, b[k])
			continue
		}
		t.Errorf("%s: %s differs: daemonbox %q, %s %q", runtime, k, a[k], runtime, b[k])
	}
}

// ociBundle exports the spec file to a new bundle directory.
func ociBundle(t *testing.T, file string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bundle")
	r := launch{file: file, cmd: "export", args: []string{"--format", "oci", "--bundle", dir}}.do(t)
	if r.code != 0 {
		t.Fatalf("export: exit %d\n%s", r.code, r.stderr)
	}
	return dir
}

// ociRun runs the bundle under runtime, with a state directory of its own
// and a container id no one else uses, and returns the probe's report.
func ociRun(t *testing.T, runtime, bundle string) report {
	t.Helper()
	state := t.TempDir()
	id := fmt.Sprintf("daemonbox-vmtest-%d-%d", os.Getpid(), time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	t.Cleanup(func() { exec.Command(runtime, "--root", state, "delete", "--force", id).Run() })
	cmd := exec.CommandContext(ctx, runtime, "--root", state, "run", "--bundle", bundle, id)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil || ctx.Err() != nil {
		t.Fatalf("%s run: %v\nstdout:\n%s\nstderr:\n%s", runtime, err, out.String(), errb.String())
	}
	r := parseReport(out.String())
	if !r.has("end") {
		t.Fatalf("%s run: no full report\nstdout:\n%s\nstderr:\n%s", runtime, out.String(), errb.String())
	}
	return r
}

// needRunc skips t (fails it in strict mode) without runc.
func needRunc(t *testing.T) {
	t.Helper()
	need(t)
	if _, err := exec.LookPath("runc"); err != nil {
		if strict {
			t.Fatal("runc is not installed (apt-get install runc)")
		}
		t.Skip("runc is not installed (apt-get install runc)")
	}
}

// ociRuntime is a runtime to compare with daemonbox; noSlash is for one
// that cannot make a config mount on "/" (crunMountsOnSlash).
type ociRuntime struct {
	name    string
	noSlash bool
}

// ociRuntimes are the runtimes to compare with daemonbox here: runc, and
// crun where it can run. Debian's crun refuses a host with cgroup v1
// controllers ("cgroups in hybrid mode not supported"), so on such a host
// it is left out, with a word in the log, and not skipped: a strict run
// has nothing to fail for.
func ociRuntimes(t *testing.T) []ociRuntime {
	runtimes := []ociRuntime{{name: "runc"}}
	_, err := exec.LookPath("crun")
	_, v2 := os.Stat("/sys/fs/cgroup/cgroup.controllers")
	switch {
	case err != nil:
		t.Log("crun is not installed: compared with runc only")
	case v2 != nil:
		t.Log("crun is installed, but this host's cgroups are not pure v2, which crun refuses: compared with runc only")
	default:
		runtimes = append(runtimes, ociRuntime{"crun", !crunMountsOnSlash(t)})
	}
	return runtimes
}

// crunMountsOnSlash reports whether the installed crun can make a config
// mount on "/", which the export writes for the host's root and for a
// read-only chroot with something mounted inside it. Before 1.22 (containers/crun#1753) crun opens no target
// for the empty path that "/" leaves below the rootfs and mounts on its own
// stdin instead, which fails with EINVAL naming an empty target. Debian 12
// has 1.8.1.
func crunMountsOnSlash(t *testing.T) bool {
	out, err := exec.Command("crun", "--version").Output()
	var major, minor int
	if err == nil {
		_, err = fmt.Sscanf(string(out), "crun version %d.%d", &major, &minor)
	}
	if err != nil {
		t.Fatalf("crun --version: %v (%q)", err, out)
	}
	return major > 1 || major == 1 && minor >= 22
}

// mountsOnSlash reports whether the bundle's config has a mount on "/".
func mountsOnSlash(t *testing.T, bundle string) bool {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(bundle, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var config struct {
		Mounts []struct{ Destination string }
	}
	if err := json.Unmarshal(b, &config); err != nil {
		t.Fatalf("%s/config.json: %v", bundle, err)
	}
	return slices.ContainsFunc(config.Mounts, func(m struct{ Destination string }) bool { return m.Destination == "/" })
}

// ociCase is a spec compared: the probe's path in its root, and the rest
// of the spec after [process].
type ociCase struct {
	name, probe, rest string
	oom               bool // oom_score_adj = 100
}

// ociCases are the specs compared: the host's root made read-only with
// the usual namespaces, a chroot with a private /dev, the same in a user
// namespace, and the chroot left writable. Only the host root's config
// has a mount on "/", which a crun before 1.22 cannot make
// (crunMountsOnSlash): a read-only chroot with nothing mounted inside is
// read-only through root.readonly.
func ociCases(t *testing.T) []ociCase {
	dir := rootDir(t)
	hostProbe := filepath.Join(dir, "probe")
	copyFile(t, probe, hostProbe, 0o755)
	data := rootDir(t)
	os.WriteFile(filepath.Join(data, "f"), []byte("x"), 0o644)
	jailRoot := jail(t, "data", "secret", "tmp", "etc", "mnt")
	os.WriteFile(filepath.Join(jailRoot, "secret", "s"), []byte("s"), 0o644)
	common := `
[user]
user = "nobody"
groups = ["nogroup"]
[capabilities]
keep = ["CAP_NET_BIND_SERVICE"]
[rlimits]
nofile = { soft = 256, hard = 1024 }
nproc = 64
[namespaces]
pid = true
network = true
ipc = true
uts = true
hostname = "oci"
[resources]
memory_max = "64MiB"
pids_max = 32
cpu_max = "50%"
`
	host := fmt.Sprintf(`
[filesystem]
readonly = ["/"]
tmpfs = ["/tmp"]
masked = [%[1]q]
[[filesystem.bind]]
source = %[1]q
target = "/mnt"
readonly = true
`, data)
	chroot := fmt.Sprintf(`
[filesystem]
root = %q
readonly = ["/"]
tmpfs = ["/tmp"]
masked = ["/secret"]
[[filesystem.bind]]
source = %q
target = "/data"
readonly = true
`, jailRoot, data)
	// runc 1.1 requires the namespace's uid and gid 0 to be mapped.
	userns := chroot + strings.Replace(common, "[namespaces]\n", `[namespaces]
user = true
uid_map = [{ inside = 0, outside = 200000, count = 65536 }]
gid_map = [{ inside = 0, outside = 200000, count = 65536 }]
`, 1)
	writable := strings.Replace(chroot, "readonly = [\"/\"]\n", "", 1)
	return []ociCase{{"host", hostProbe, host + common, true}, {"chroot", "/probe", chroot + common, true},
		{"userns", "/probe", userns, true}, {"chroot-rw", "/probe", writable + common, true}}
}

// spec is the case's spec, named name, with the probe run as args asks.
func (c ociCase) spec(name string, args []string) string {
	oom := ""
	if c.oom {
		oom = "oom_score_adj = 100\n"
	}
	cmd := fmt.Sprintf("%q", c.probe)
	for _, a := range args {
		cmd += fmt.Sprintf(", %q", a)
	}
	return fmt.Sprintf(`name = %q
[process]
command = [%s]
env = { LANG = "C.UTF-8", PATH = "/bin" }
cwd = "/"
umask = 0o027
%s%s`, name, cmd, oom, c.rest)
}

// ociModes are the probe's runs: its report, its system calls, and
// isolation checks of the mounts.
var ociModes = map[string][]string{
	"report":   nil,
	"syscalls": {"syscalls"},
	"isolation": {"isolation", "write=/etc/x", "write=/x", "write=/tmp/x", "write=/mnt/x", "write=/data/x",
		"read=/mnt/f", "read=/data/f", "read=/secret/s", "read=/proc/kcore", "write=/proc/sys/kernel/x",
		"write=/sys/fs/cgroup/x", "write=/dev/x", "write=/dev/shm/x", "write=/dev/null", "remount=/"},
}

// TestOCIExportRunc: the same spec under daemonbox and, exported, under
// runc (and crun on a pure cgroup v2 host) reports the same process,
// credentials, capabilities, limits, namespaces, mounts and system call
// answers, but for what ociInherent lists.
func TestOCIExportRunc(t *testing.T) {
	needRunc(t)
	runtimes := ociRuntimes(t)
	for _, c := range ociCases(t) {
		for mode, args := range ociModes {
			t.Run(c.name+"/"+mode, func(t *testing.T) {
				// A name of its own: its cgroup is no other test's.
				name := fmt.Sprintf("oci-%d-%s-%s", os.Getpid(), c.name, mode)
				file := specFile(t, c.spec(name, args))
				db := launch{file: file}.ok(t)
				bundle := ociBundle(t, file)
				for _, rt := range runtimes {
					if rt.noSlash && mountsOnSlash(t, bundle) {
						t.Logf("%s: left out: this config has a mount on /, which crun before 1.22 cannot make", rt.name)
						continue
					}
					ociCompare(t, c.name, rt.name, db, ociRun(t, rt.name, bundle))
				}
			})
		}
	}
}

// export --format oci writes the config to stdout, with what it does not
// carry on stderr; a wrong flag or format exits 125.
func TestOCIExportCommand(t *testing.T) {
	need(t)
	file := specFile(t, "[process]\ncommand = [\"/bin/true\"]\n[landlock]\nread = [\"/usr\"]\nexecute = [\"/bin/true\", \"/usr/bin/true\"]\n")
	r := launch{file: file, cmd: "export", args: []string{"--format=oci"}}.do(t)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var c struct {
		OCIVersion  string            `json:"ociVersion"`
		Annotations map[string]string `json:"annotations"`
		Root        struct{ Path string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	if c.Root.Path != "rootfs" || c.Annotations["org.daemonbox.not-carried.landlock"] == "" ||
		!strings.Contains(r.stderr, "landlock not carried") {
		t.Errorf("root %q, annotations %v, stderr %s", c.Root.Path, c.Annotations, r.stderr)
	}
	for _, args := range [][]string{{"--format", "xml"}, {"--bundle", t.TempDir()}, {"--format", "systemd", "--bundle", "x"}, {"--format"}} {
		if r := (launch{file: file, cmd: "export", args: args}).do(t); r.code != 125 || r.stdout != "" {
			t.Errorf("export %v: exit %d, stdout %q, want 125 and nothing", args, r.code, r.stdout)
		}
	}
}
