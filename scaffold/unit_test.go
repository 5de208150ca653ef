package scaffold

import (
	"strings"
	"testing"
	"time"

	"github.com/daemonbox/daemonbox/spec"
)

// A unit as a person writes one, with each key FromUnit translates and some
// it cannot.
const webUnit = `[Unit]
Description=Example web server
After=network.target

[Service]
Type=notify
ExecStart=/usr/sbin/web --config "/etc/web/web conf" -v \
  --literal $$HOME
User=www-data
Group=www-data
SupplementaryGroups=adm ssl-cert
WorkingDirectory=/var/lib/web
RootDirectory=/
UMask=0027
Environment="LANG=C.UTF-8" TZ=UTC
Environment=MODE=prod
LimitNOFILE=1024:4096
LimitCORE=0
LimitAS=infinity
CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_CHOWN
AmbientCapabilities=CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
PrivateNetwork=yes
PrivateIPC=yes
PrivatePIDs=yes
ProtectHostname=yes
ReadOnlyPaths=/
InaccessiblePaths=/home -/proc/kcore
TemporaryFileSystem=/tmp:mode=1777,nosuid,nodev /run
BindPaths=/var/lib/web
BindReadOnlyPaths=/etc/web:/config
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
RestrictAddressFamilies=AF_UNIX AF_INET
MemoryDenyWriteExecute=yes
MemoryMax=512M
TasksMax=64
CPUQuota=150%
KillSignal=SIGQUIT
TimeoutStopSec=1min 30s
TimeoutStartSec=20
Restart=on-abnormal
PIDFile=/run/web.pid
ExecReload=/bin/kill -HUP $MAINPID
ProtectSystem=strict
DynamicUser=yes

[Install]
WantedBy=multi-user.target
`

func TestFromUnit(t *testing.T) {
	text, err := FromUnit("/etc/systemd/system/web.service", []byte(webUnit), "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := spec.Parse("web.toml", []byte(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	checks := []struct {
		what string
		ok   bool
	}{
		{"name", s.Name == "web"},
		{"command", strings.Join(s.Process.Command, "|") == "/usr/sbin/web|--config|/etc/web/web conf|-v|--literal|$HOME"},
		{"user", s.User.User.Name == "www-data" && s.User.Group.Name == "www-data" && len(s.User.Groups) == 2},
		{"cwd, umask", s.Process.Cwd == "/var/lib/web" && s.Process.Umask == 0o027},
		{"env", s.Process.Env["LANG"] == "C.UTF-8" && s.Process.Env["TZ"] == "UTC" && s.Process.Env["MODE"] == "prod" && s.Process.Env["PATH"] == spec.DefaultPath},
		{"rlimits", s.Rlimits[7].Soft == 1024 && s.Rlimits[7].Hard == 4096 && s.Rlimits[4].Hard == 0 && s.Rlimits[9] != nil},
		{"caps", s.Capabilities.DropAll && strings.Join(s.Capabilities.Keep.Names(), ",") == "CAP_NET_BIND_SERVICE"},
		{"namespaces", s.Namespaces.Network && s.Namespaces.IPC && s.Namespaces.PID && s.Namespaces.UTS},
		{"filesystem", strings.Join(s.Filesystem.Readonly, ",") == "/" && strings.Join(s.Filesystem.Masked, ",") == "/home" && len(s.Filesystem.Tmpfs) == 2 && len(s.Filesystem.Bind) == 2},
		{"seccomp", strings.Join(s.Seccomp.Deny, ",") == "@privileged,@resources" && s.Seccomp.DenyWriteExecute && len(s.Seccomp.Families) == 2},
		{"signals", s.Signals.Stop == 3 && s.Signals.StopTimeout == 90*time.Second && s.Signals.Reload == 1},
		{"daemon", s.Daemon.Ready == spec.ReadyNotify && s.Daemon.Restart == spec.RestartOnFailure && s.Daemon.Pidfile == "/run/web.pid" && s.Daemon.ReadyTimeout == 20*time.Second},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s not translated:\n%s", c.what, text)
		}
	}
	for _, lost := range []string{"ProtectSystem=strict: no equivalent", "DynamicUser=yes", "Restart=on-abnormal: daemonbox's nearest is on-failure", "[Unit] After=", "[Install] WantedBy="} {
		if !strings.Contains(text, "#   "+lost) {
			t.Errorf("%q is not listed as lost:\n%s", lost, text)
		}
	}
}

func TestFromUnitRefuses(t *testing.T) {
	for unit, want := range map[string]string{
		"[Unit]\nDescription=x\n":        "no [Service] section",
		"[Service]\nUser=nobody\n":       "no ExecStart=",
		"[Service]\nExecStart=/bin/true": "",
	} {
		_, err := FromUnit("x.service", []byte(unit), "")
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: got %v, want %q", unit, err, want)
		}
	}
}

func TestStarterParses(t *testing.T) {
	for _, cmd := range [][]string{nil, {"/usr/sbin/nginx", "-g", "daemon off;"}, {"/bin/sh", "-c", "echo \"$x\"\\\n\t\x01"}} {
		text := Starter("", cmd)
		s, err := spec.Parse("s.toml", []byte(text))
		if err != nil {
			t.Fatalf("%q: %v\n%s", cmd, err, text)
		}
		if cmd != nil && strings.Join(s.Process.Command, "|") != strings.Join(cmd, "|") {
			t.Errorf("command %q, want %q", s.Process.Command, cmd)
		}
		if s.Process.NoNewPrivileges != true || !s.Capabilities.DropAll || len(s.Filesystem.Readonly) == 0 {
			t.Errorf("%q: not hardened: %+v", cmd, s)
		}
	}
	if s, _ := spec.Parse("s.toml", []byte(Starter("web", []string{"/bin/true"}))); s == nil || s.Name != "web" {
		t.Errorf("--name not used")
	}
}
