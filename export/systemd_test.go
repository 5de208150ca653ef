package export

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/caps"
	"github.com/daemonbox/daemonbox/sandbox"
	"github.com/daemonbox/daemonbox/spec"
)

// testHost resolves plans without reading this machine's users, caps or
// cgroups; paths (root, binds, logs) are real and must exist.
func testHost() *sandbox.Host {
	all := caps.Upto(40)
	return &sandbox.Host{
		Caps: caps.Sets{Bounding: all, Permitted: all, Effective: all}, LastCap: 40,
		Bounding:   func() (caps.Set, error) { return all, nil },
		Rlimit:     func(int) (uint64, uint64, error) { return 1 << 20, 1 << 20, nil },
		NrOpen:     func() (uint64, error) { return 1 << 20, nil },
		PasswdFile: "../sandbox/testdata/passwd", GroupFile: "../sandbox/testdata/group",
		LookupEnv: func(string) (string, bool) { return "", false },
		Landlock:  func() int { return 7 },
		Cgroups:   func() sandbox.CgroupBase { return sandbox.CgroupBase{V2: true} },
	}
}

func exportDoc(t *testing.T, top, doc string, version int, edit func(*spec.Spec)) string {
	t.Helper()
	s, err := spec.Parse("t.toml", []byte(top+"[process]\ncommand = [\"/bin/true\"]\n"+doc))
	if err != nil {
		t.Fatalf("%s%s:\n%v", top, doc, err)
	}
	if edit != nil {
		edit(s)
	}
	p, err := sandbox.NewPlan(s, testHost())
	if err != nil {
		t.Fatalf("%s%s:\n%v", top, doc, err)
	}
	units, err := Systemd(s, p, SystemdOptions{Version: version})
	if err != nil {
		t.Fatalf("%s%s:\n%v", top, doc, err)
	}
	var b strings.Builder
	for _, u := range units {
		b.WriteString(SystemdUnitSeparator(u.Name) + u.Text)
	}
	return b.String()
}

// keyCase sets one spec key; want must then be in the export (or, with a
// leading "!", must not be), and the export must differ from the bare spec's.
type keyCase struct {
	key, top, doc string
	want          []string
	version       int
	edit          func(*spec.Spec)
}

var nobody = "[user]\nuser = \"nobody\"\n"

var keyCases = []keyCase{
	{key: "version", top: "version = 1\n", want: []string{"(spec version 1)"}},
	{key: "name", top: "name = \"web\"\n", want: []string{"# === web.service ===", "Description=web,"}},
	{key: "process.command", edit: func(s *spec.Spec) { s.Process.Command = []string{"/bin/echo", "a b", "$x"} }, want: []string{`ExecStart=/bin/echo "a b" "$$x"`}},
	{key: "process.env", doc: "env = { GREETING = \"hello world\" }\n", want: []string{`Environment="GREETING=hello world"`}},
	{key: "process.inherit_env", doc: "inherit_env = [\"TZ\"]\n", want: []string{"PassEnvironment=TZ"}},
	{key: "process.cwd", doc: "cwd = \"/tmp\"\n", want: []string{"WorkingDirectory=/tmp"}},
	{key: "process.umask", doc: "umask = 0o077\n", want: []string{"UMask=0077"}},
	{key: "process.no_new_privileges", doc: "no_new_privileges = false\n[seccomp]\nenabled = false\n", want: []string{"NoNewPrivileges=no"}},
	{key: "process.oom_score_adj", doc: "oom_score_adj = 100\n", want: []string{"OOMScoreAdjust=100"}},
	{key: "user.user", doc: nobody, want: []string{"User=nobody"}},
	{key: "user.group", doc: nobody + "group = \"nogroup\"\n", want: []string{"Group=nogroup"}},
	{key: "user.groups", doc: nobody + "groups = [\"ssl-cert\"]\n", want: []string{"SupplementaryGroups=ssl-cert", "initgroups"}},
	{key: "filesystem.root", doc: "[filesystem]\nroot = \"/usr\"\n", want: []string{"RootDirectory=/usr", "MountAPIVFS=no"}},
	{key: "filesystem.readonly", doc: "[filesystem]\nreadonly = [\"/etc\"]\n", want: []string{"ReadOnlyPaths=/etc", "ReadOnlyPaths=-/sys", "PrivateMounts=yes"}},
	{key: "filesystem.masked", doc: "[filesystem]\nmasked = [\"/etc/shadow\"]\n", want: []string{"InaccessiblePaths=-/etc/shadow", "masked paths:"}},
	{key: "filesystem.tmpfs", doc: "[filesystem]\ntmpfs = [\"/tmp\"]\n", want: []string{"TemporaryFileSystem=/tmp:mode=1777,nosuid,nodev"}},
	{key: "filesystem.bind.source", doc: "[[filesystem.bind]]\nsource = \"/usr/share\"\ntarget = \"/data\"\n", want: []string{"BindPaths=/usr/share:/data"}},
	{key: "filesystem.bind.target", doc: "[[filesystem.bind]]\nsource = \"/usr/share\"\ntarget = \"/srv/my data\"\n", want: []string{`BindPaths=/usr/share:"/srv/my data"`}},
	{key: "filesystem.bind.readonly", doc: "[[filesystem.bind]]\nsource = \"/usr/share\"\ntarget = \"/data\"\nreadonly = true\n", want: []string{"BindReadOnlyPaths=/usr/share:/data", "!ReadOnlyPaths=/data"}},
	{key: "filesystem.writable", doc: "[filesystem]\nreadonly = [\"/\"]\nwritable = [\"/var/lib\"]\n", want: []string{"ReadOnlyPaths=/", "ReadWritePaths=/var/lib", "!BindPaths="}},
	{key: "directories.state", doc: nobody + "[filesystem]\nreadonly = [\"/\"]\n[directories]\nstate = [\"web\", \"web/db\"]\n", want: []string{"StateDirectory=web web/db", "StateDirectoryMode=0755", "!ReadWritePaths", "!STATE_DIRECTORY="}},
	{key: "directories.runtime", doc: "[directories]\nruntime = [\"web\"]\n", want: []string{"RuntimeDirectory=web", "RuntimeDirectoryMode=0755"}},
	{key: "directories.logs", doc: "[directories]\nlogs = [\"web\"]\n", want: []string{"LogsDirectory=web"}},
	{key: "directories.cache", doc: nobody + "[filesystem]\nroot = \"/usr\"\n[directories]\ncache = [\"web\"]\n", want: []string{"CacheDirectory=web", "!BindPaths"}},
	{key: "directories.mode", doc: "[directories]\ncache = [\"web\"]\nmode = 0o700\n", want: []string{"CacheDirectoryMode=0700"}},
	{key: "process.env_file", edit: func(s *spec.Spec) { s.Process.EnvFile, _ = filepath.Abs("testdata/web.env") }, want: []string{"/testdata/web.env\n", "process.env_file: systemd reads it at every start"}},
	{key: "filesystem.dev", doc: "[filesystem]\ndev = true\n", want: []string{"PrivateDevices=yes"}},
	{key: "namespaces.pid", doc: "[namespaces]\npid = true\n", want: []string{"namespaces.pid = true: PrivatePIDs= needs systemd 257", "ReadOnlyPaths=-/proc/sys", "InaccessiblePaths=-/proc/kcore"}},
	{key: "namespaces.pid@257", doc: "[namespaces]\npid = true\n", version: 257, want: []string{"PrivatePIDs=yes", "namespaces.init:"}},
	{key: "namespaces.init", doc: "[namespaces]\npid = true\ninit = false\n", version: 257, want: []string{"PrivatePIDs=yes", "!namespaces.init:"}},
	{key: "namespaces.mount", doc: "[namespaces]\nmount = true\n", want: []string{"PrivateMounts=yes"}},
	{key: "namespaces.network", doc: "[namespaces]\nnetwork = true\n", want: []string{"PrivateNetwork=yes"}},
	{key: "namespaces.ipc", doc: "[namespaces]\nipc = true\n", want: []string{"PrivateIPC=yes"}},
	{key: "namespaces.uts", doc: "[namespaces]\nuts = true\n", want: []string{"ProtectHostname=yes"}},
	{key: "namespaces.hostname", doc: "[namespaces]\nuts = true\nhostname = \"web\"\n", want: []string{`namespaces.hostname = "web"`}},
	{key: "namespaces.cgroup", doc: "[namespaces]\ncgroup = true\n", want: []string{"namespaces.cgroup = true"}},
	{key: "namespaces.user", doc: nobody + "[namespaces]\nuser = true\n", want: []string{"PrivateUsers=yes", "uid_map 65534:65534:1"}},
	{key: "namespaces.uid_map", doc: "[namespaces]\nuser = true\nuid_map = [{ inside = 0, outside = 100000, count = 65536 }]\ngid_map = [{ inside = 0, outside = 100000, count = 65536 }]\n",
		want: []string{"uid_map 0:100000:65536", "gid_map 0:100000:65536"}},
	{key: "namespaces.gid_map", doc: "[namespaces]\nuser = true\nuid_map = [{ inside = 0, outside = 0, count = 1 }]\ngid_map = [{ inside = 0, outside = 7, count = 1 }]\n",
		want: []string{"gid_map 0:7:1"}},
	{key: "capabilities.keep", doc: nobody + "[capabilities]\nkeep = [\"CAP_NET_BIND_SERVICE\"]\n", want: []string{"CapabilityBoundingSet=CAP_NET_BIND_SERVICE", "AmbientCapabilities=CAP_NET_BIND_SERVICE"}},
	{key: "capabilities.drop", doc: "[capabilities]\ndrop = [\"CAP_SYS_ADMIN\"]\n", want: []string{"CapabilityBoundingSet=CAP_CHOWN", "!CAP_SYS_ADMIN"}},
	{key: "fds.stdin", doc: "[fds]\nstdin = \"/etc/hostname\"\n", want: []string{"StandardInput=file:/etc/hostname"}},
	{key: "fds.stdout", doc: "[fds]\nstdout = \"/var/log/x.log\"\n", want: []string{"StandardOutput=append:/var/log/x.log"}},
	{key: "fds.stderr", doc: "[fds]\nstderr = \"null\"\n", want: []string{"StandardError=null"}},
	{key: "fds.preserve", doc: "[fds]\npreserve = [3]\n", want: []string{"fds.preserve = [3]"}},
	{key: "fds.listen.name", edit: listen(spec.Listen{Name: "http", Address: "tcp://0.0.0.0:80"}),
		want: []string{"Sockets=t.socket", "Requires=t.socket", "# === t.socket ===", "ListenStream=0.0.0.0:80", "FileDescriptorName=http", "Service=t.service"}},
	{key: "fds.listen.address", edit: listen(spec.Listen{Name: "dns", Address: "udp://[::1]:53"}, spec.Listen{Address: "unix:///run/t.sock"}),
		want: []string{"Sockets=t-dns.socket t-1.socket", "# === t-dns.socket ===", "ListenDatagram=[::1]:53", "# === t-1.socket ===", "ListenStream=/run/t.sock"}},
	{key: "fds.listen.mode", doc: "[[fds.listen]]\nname = \"ctl\"\naddress = \"unix:///run/t/ctl.sock\"\nmode = 0o660\nowner = \"nobody:nogroup\"\n",
		want: []string{"ListenStream=/run/t/ctl.sock", "SocketMode=0660", "SocketUser=nobody", "SocketGroup=nogroup", "FileDescriptorName=ctl"}},
	{key: "fds.listen.owner", doc: "[[fds.listen]]\nname = \"web\"\naddress = \"tcp6://[::1]:8080\"\n[[fds.listen]]\nname = \"outer\"\naddress = \"systemd:http\"\n",
		want: []string{"ListenStream=[::1]:8080", "BindIPv6Only=ipv6-only", "takes systemd's socket \"http\"", "Sockets=t-web.socket\n"}},
	{key: "signals.ignore", doc: "[signals]\nignore = [\"SIGPIPE\", \"SIGHUP\"]\n", want: []string{"IgnoreSIGPIPE=yes", "SIGHUP start at SIG_DFL"}},
	{key: "signals.stop", doc: "[signals]\nstop = \"SIGINT\"\n", want: []string{"KillSignal=SIGINT"}},
	{key: "signals.stop_timeout", doc: "[signals]\nstop_timeout = \"1500ms\"\n", want: []string{"TimeoutStopSec=1500ms"}},
	{key: "signals.reload", doc: "[signals]\nreload = \"SIGUSR1\"\n", want: []string{"ExecReload=+/bin/kill -s SIGUSR1 $MAINPID"}},
	{key: "signals.parent_death", doc: "[signals]\nparent_death = \"SIGTERM\"\n", want: []string{"signals.parent_death = SIGTERM"}},
	{key: "daemon.detach", doc: "[daemon]\ndetach = true\n", want: []string{"daemon.detach = true"}},
	{key: "daemon.pidfile", doc: "[daemon]\npidfile = \"/run/t.pid\"\n", want: []string{"PIDFile=/run/t.pid"}},
	{key: "daemon.restart", doc: "[daemon]\nrestart = \"always\"\n", want: []string{"Restart=always", "daemon.restart:"}},
	{key: "daemon.ready", doc: "[daemon]\nready = \"notify\"\n", want: []string{"Type=notify"}},
	{key: "daemon.ready_timeout", doc: "[daemon]\nready_timeout = \"5s\"\n", want: []string{"TimeoutStartSec=5s"}},
	{key: "daemon.start_settle", doc: "[daemon]\nstart_settle = \"2s\"\n", want: []string{"daemon.start_settle = 2s: systemd has no such wait"}},
	{key: "daemon.watchdog", doc: "[daemon]\nwatchdog = \"30s\"\n", want: []string{"WatchdogSec=30s"}},
	{key: "seccomp.enabled", doc: "[seccomp]\nenabled = false\n", want: []string{"seccomp.enabled = false", "!SystemCallFilter="}},
	{key: "seccomp.allow", doc: "[seccomp]\nallow = [\"@system-service\", \"io_uring_setup\"]\n", want: []string{"SystemCallFilter=@system-service io_uring_setup", "!~add_key get_mempolicy io_uring_enter io_uring_register io_uring_setup"}},
	{key: "seccomp.deny", doc: "[seccomp]\ndeny = [\"@resources\"]\n", want: []string{"SystemCallFilter=~@resources"}},
	{key: "seccomp.action", doc: "[seccomp]\naction = \"log\"\n", want: []string{"SystemCallLog=~@system-service", "SystemCallLog=add_key", "!SystemCallFilter="}},
	{key: "seccomp.action@kill", doc: "[seccomp]\naction = \"kill\"\n", want: []string{"seccomp.action = kill", "!SystemCallErrorNumber="}},
	{key: "seccomp.errno", doc: "[seccomp]\nerrno = \"EACCES\"\n", want: []string{"SystemCallErrorNumber=EACCES"}},
	{key: "seccomp.address_families", doc: "[seccomp]\naddress_families = [\"AF_UNIX\"]\n", want: []string{"RestrictAddressFamilies=AF_UNIX\n"}},
	{key: "seccomp.address_families@all", doc: "[seccomp]\naddress_families = [\"all\"]\n", want: []string{"!RestrictAddressFamilies=", "socket() may create any family"}},
	{key: "seccomp.memory_deny_write_execute", doc: "[seccomp]\nmemory_deny_write_execute = false\n", want: []string{"MemoryDenyWriteExecute=no"}},
	{key: "resources.memory_max", doc: nobody + "[resources]\nmemory_max = \"64MiB\"\n", want: []string{"MemoryMax=67108864"}},
	{key: "resources.memory_swap_max", doc: nobody + "[resources]\nmemory_swap_max = \"0\"\n", want: []string{"MemorySwapMax=0"}},
	{key: "resources.pids_max", doc: nobody + "[resources]\npids_max = 32\n", want: []string{"TasksMax=32"}},
	{key: "resources.cpu_max", doc: nobody + "[resources]\ncpu_max = \"12.5%\"\n", want: []string{"CPUQuota=12.50%"}},
	{key: "resources.cpu_weight", doc: nobody + "[resources]\ncpu_weight = 50\n", want: []string{"CPUWeight=50"}},
	{key: "resources.io_weight", doc: nobody + "[resources]\nio_weight = 50\n", want: []string{"IOWeight=50"}},
	{key: "resources.parent", doc: nobody + "[resources]\nparent = \"other\"\n", want: []string{`resources.parent = "other"`}},
	{key: "landlock.read", doc: "[landlock]\nexecute = [\"/usr/bin\", \"/bin\"]\nread = [\"/usr\"]\n", want: []string{"landlock.read = [/usr]", "has no systemd directive"}},
	{key: "landlock.write", doc: "[landlock]\nexecute = [\"/usr/bin\", \"/bin\"]\nwrite = [\"/tmp\"]\n", want: []string{"landlock.write = [/tmp]"}},
	{key: "landlock.execute", doc: "[landlock]\nexecute = [\"/usr\", \"/bin\"]\n", want: []string{"landlock.execute = [/usr /bin]"}},
	{key: "landlock.bind_tcp", doc: "[landlock]\nexecute = [\"/usr/bin\", \"/bin\"]\nbind_tcp = [80, 443]\n", want: []string{"SocketBindDeny=tcp", "SocketBindAllow=tcp:80", "SocketBindAllow=tcp:443"}},
	{key: "landlock.connect_tcp", doc: "[landlock]\nexecute = [\"/usr/bin\", \"/bin\"]\nconnect_tcp = [5432]\n", want: []string{"landlock.connect_tcp = [5432]"}},
	{key: "landlock.mode", doc: "[landlock]\nexecute = [\"/usr/bin\", \"/bin\"]\nmode = \"best-effort\"\n", want: []string{"(mode best-effort)"}},
}

// listen sets [[fds.listen]] on the parsed spec: the parser refuses it
// until socket activation lands.
func listen(l ...spec.Listen) func(*spec.Spec) {
	return func(s *spec.Spec) { s.FDs.Listen = l }
}

func init() {
	for _, r := range []string{"cpu", "fsize", "data", "stack", "core", "rss", "nproc", "nofile", "memlock", "as", "locks", "sigpending", "msgqueue", "nice", "rtprio", "rttime"} {
		hard, want := `"unlimited"`, "=7:infinity"
		if r == "nofile" { // bounded by fs.nr_open
			hard, want = "4096", "LimitNOFILE=7:4096"
		}
		keyCases = append(keyCases, keyCase{key: "rlimits." + r, doc: "[rlimits]\n" + r + " = { soft = 7, hard = " + hard + " }\n", want: []string{want}})
	}
}

// TestSystemdEveryKey sets each key of the spec and checks that the export
// says something of it: a directive, or a comment saying what is lost.
func TestSystemdEveryKey(t *testing.T) {
	base := exportDoc(t, "", "", DefaultSystemdVersion, nil)
	for _, c := range keyCases {
		version := c.version
		if version == 0 {
			version = DefaultSystemdVersion
		}
		got := exportDoc(t, c.top, c.doc, version, c.edit)
		if got == base && c.key != "version" {
			t.Errorf("%s: the export does not change", c.key)
		}
		for _, w := range c.want {
			if absent, ok := strings.CutPrefix(w, "!"); ok {
				if strings.Contains(got, absent) {
					t.Errorf("%s: the export has %q:\n%s", c.key, absent, got)
				}
			} else if !strings.Contains(got, w) {
				t.Errorf("%s: the export lacks %q:\n%s", c.key, w, got)
			}
		}
	}
}

// TestSystemdKeyCasesComplete holds keyCases to the spec: every key the
// decoder knows (its *Keys lists and the rlimit table, read from the spec
// package's source) has a case, so a new key cannot be exported silently.
func TestSystemdKeyCasesComplete(t *testing.T) {
	covered := map[string]bool{}
	for _, c := range keyCases {
		key, _, _ := strings.Cut(c.key, "@")
		for _, part := range strings.Split(key, ".") {
			covered[part] = true
		}
	}
	for _, word := range []string{"inside", "outside", "count"} { // the fields of uid_map and gid_map lines
		covered[word] = covered["uid_map"]
	}
	for _, k := range specKeys(t) {
		if !covered[k] {
			t.Errorf("spec key %q has no case in keyCases: export it (a directive or a comment) and add one", k)
		}
	}
}

// specKeys reads the key names from ../spec: the strings of every
// package-level var named *Keys, and the first string of each rlimitTable entry.
func specKeys(t *testing.T) []string {
	files, _ := filepath.Glob("../spec/*.go")
	var keys []string
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		file, err := parser.ParseFile(fset, f, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok || len(vs.Names) != 1 || len(vs.Values) != 1 {
				return true
			}
			name := vs.Names[0].Name
			lit, ok := vs.Values[0].(*ast.CompositeLit)
			if !ok || !(strings.HasSuffix(name, "Keys") || name == "rlimitTable") {
				return true
			}
			for _, e := range lit.Elts {
				if inner, ok := e.(*ast.CompositeLit); ok && len(inner.Elts) > 0 {
					e = inner.Elts[0]
				}
				if s, ok := e.(*ast.BasicLit); ok && s.Kind == token.STRING {
					v, _ := strconv.Unquote(s.Value)
					keys = append(keys, v)
				}
			}
			return true
		})
	}
	if len(keys) < 60 {
		t.Fatalf("read %d keys from ../spec: the test no longer finds them", len(keys))
	}
	return keys
}

// TestSystemdOutputFiles writes --output FILE and the socket unit beside it.
func TestSystemdOutputFiles(t *testing.T) {
	s, err := spec.Parse("t.toml", []byte("name = \"web\"\n[process]\ncommand = [\"/bin/true\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	s.FDs.Listen = []spec.Listen{{Name: "http", Address: "tcp://127.0.0.1:8080"}}
	p, err := sandbox.NewPlan(s, testHost())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteSystemd(nil, s, p, SystemdOptions{Output: filepath.Join(dir, "front.service")}); err != nil {
		t.Fatal(err)
	}
	sock, err := os.ReadFile(filepath.Join(dir, "front.socket"))
	if err != nil || !strings.Contains(string(sock), "Service=front.service\n") {
		t.Errorf("front.socket: %v\n%s", err, sock)
	}
	if svc, err := os.ReadFile(filepath.Join(dir, "front.service")); err != nil || !strings.Contains(string(svc), "Sockets=front.socket\n") {
		t.Errorf("front.service: %v\n%s", err, svc)
	}
	if err := WriteSystemd(nil, s, p, SystemdOptions{Output: filepath.Join(dir, "front.unit")}); err == nil || !strings.Contains(err.Error(), "must end in .service") {
		t.Errorf("--output front.unit: %v", err)
	}
}

// No spec value starts a line of its own in a unit: control characters in
// comments are escaped, listen names that are no unit-name text give way
// to their index, and a unit name from a hostile file name is refused.
func TestSystemdNoInjection(t *testing.T) {
	out := exportDoc(t, "", "[landlock]\nread = [\"/etc/x\\rExecStartPre=+/bin/evil\"]\nexecute = [\"/bin\"]\nmode = \"best-effort\"\n"+
		"[[fds.listen]]\nname = \"a b/%n\"\naddress = \"tcp://127.0.0.1:81\"\n[[fds.listen]]\nname = \"ok\"\naddress = \"tcp://127.0.0.1:82\"\n", 0, nil)
	for i, line := range strings.Split(out, "\n") {
		if strings.ContainsFunc(line, isControl) || strings.HasPrefix(line, "ExecStartPre") {
			t.Errorf("line %d carries a spec value's control character: %q", i, line)
		}
	}
	if !strings.Contains(out, "# === t-0.socket ===") || !strings.Contains(out, "# === t-ok.socket ===") {
		t.Errorf("socket units not named by index or name:\n%s", out)
	}
	s, _ := spec.Parse("t.toml", []byte("[process]\ncommand = [\"/bin/true\"]\n"))
	s.File = "/tmp/v\rExecStartPre=x.toml"
	p, err := sandbox.NewPlan(s, testHost())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Systemd(s, p, SystemdOptions{}); err == nil || !strings.Contains(err.Error(), "unit name") {
		t.Errorf("a unit name with a control character: %v", err)
	}
}
