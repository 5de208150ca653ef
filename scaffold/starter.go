package scaffold

import (
	"fmt"
	"strings"
)

// placeholder is the command of a starter spec written without one.
var placeholder = []string{"/usr/sbin/mydaemon", "--foreground"}

// Starter returns a commented, hardened starter spec for command (argv, its
// program an absolute path), named name. Every setting it writes is one a
// daemon that writes nothing outside /tmp and /run can live with, so that the
// file passes `daemonbox check` as it is; the comments say what to loosen.
func Starter(name string, command []string) string {
	if len(command) == 0 {
		command = placeholder
	}
	if name == "" {
		name = NameFor(command)
	}
	var b strings.Builder
	fmt.Fprintf(&b, starterText, toml(name), tomlArray(command))
	return b.String()
}

const starterText = `# A starter spec, written by daemonbox spec. Edit it, then:
#   daemonbox check this.toml      # validate against this host, no side effect
#   daemonbox explain this.toml    # the effective confinement and its exposure score
#   daemonbox start this.toml      # run it in the background; status, stop
# Every key is in daemonbox's README; what is left out keeps its hardened
# default (no capabilities, no_new_privs, the default system call filter).

version = 1
# The name of its cgroup, its pidfile and its messages.
name = %s

[process]
# The daemon in the foreground: no fork to the background, logs to stderr.
command = %s
umask = 0o027                           # files it creates: not world-readable
# env = { PATH = "/usr/bin:/bin" }      # the whole environment (default: PATH only)
# cwd = "/var/lib/mydaemon"

[user]
user = "nobody"                         # its own account: useradd --system mydaemon
# group = "nogroup"                     # default: the user's primary group

[filesystem]
readonly = ["/"]                        # the host's tree, read-only
tmpfs = ["/tmp", "/run"]                # private and writable
dev = true                              # a minimal private /dev
# [[filesystem.bind]]                   # a directory it may write
# source = "/var/lib/mydaemon"
# target = "/var/lib/mydaemon"
# readonly = false

[namespaces]
pid = true                              # it sees only its own processes
ipc = true
uts = true
cgroup = true
# network = true                        # no network but its own loopback

[capabilities]
drop = ["ALL"]
# keep = ["CAP_NET_BIND_SERVICE"]       # to bind a port below 1024 as a non-root user

[rlimits]
core = 0                                # no core dumps
nofile = 1024

[signals]
stop = "SIGTERM"
stop_timeout = "10s"                    # then SIGKILL

[seccomp]
memory_deny_write_execute = true        # no W^X memory (a JIT needs false)
# allow = ["@system-service"]           # the default filter

[resources]                             # a cgroup of its own
memory_max = "256MiB"
pids_max = 64
# cpu_max = "100%%"                      # of one CPU
`
