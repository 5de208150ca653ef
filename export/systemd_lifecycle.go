package export

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/daemonbox/daemonbox/spec"
)

func (g *serviceGen) resources() {
	u, c := &g.u, g.p.Cgroup
	if !c.Set {
		u.note("No [resources]: systemd gives the service a cgroup all the same, without limits, as a supervised daemonbox does.")
		return
	}
	l := c.Limits
	if l.MemoryMax != nil {
		u.set("MemoryMax", strconv.FormatUint(*l.MemoryMax, 10))
	}
	if l.MemorySwapMax != nil {
		u.set("MemorySwapMax", strconv.FormatUint(*l.MemorySwapMax, 10))
	}
	if l.PidsMax != nil {
		u.set("TasksMax", strconv.FormatInt(*l.PidsMax, 10))
	}
	if l.CPUQuota != nil {
		u.set("CPUQuota", percent(*l.CPUQuota, int64(l.CPUPeriod)))
	}
	if l.CPUWeight != nil {
		u.set("CPUWeight", strconv.FormatUint(*l.CPUWeight, 10))
	}
	if l.IOWeight != nil {
		u.set("IOWeight", strconv.FormatUint(*l.IOWeight, 10))
	}
	u.note("resources.parent = %q: systemd puts the service in its slice (Slice=, system.slice by default) instead.", g.s.Resources.Parent)
}

// percent writes quota/period as CPUQuota= takes it: a percentage with
// at most two decimals.
func percent(quota, period int64) string {
	if period <= 0 {
		period = spec.CPUPeriod
	}
	hundredths := (quota*10000 + period/2) / period
	if hundredths%100 == 0 {
		return strconv.FormatInt(hundredths/100, 10) + "%"
	}
	return fmt.Sprintf("%d.%02d%%", hundredths/100, hundredths%100)
}

// streams writes fds.stdin, fds.stdout and fds.stderr, fds.preserve, and
// the sockets of [[fds.listen]].
func (g *serviceGen) streams() {
	u := &g.u
	for i, key := range []string{"StandardInput", "StandardOutput", "StandardError"} {
		st := g.p.Stdio[i]
		name := []string{"stdin", "stdout", "stderr"}[i]
		switch {
		case st.Kind == spec.StdioNull:
			u.set(key, "null")
		case st.Kind == spec.StdioFile && i == 0:
			u.line(key, "file:"+st.Path)
		case st.Kind == spec.StdioFile:
			u.line(key, "append:"+st.Path)
			u.note("fds.%s: systemd opens it for appending as root before dropping privileges, but hands the daemon the file itself, which it may then truncate or rewrite (daemonbox's supervisor hands it a pipe); StandardOutput=journal keeps what was written.", name)
		case i == 0:
			u.set(key, "null")
			u.note("fds.stdin = \"inherit\": a service has no terminal to inherit; systemd gives it /dev/null.")
		default:
			u.set(key, "journal")
			u.note("fds.%s = \"inherit\": what daemonbox was given becomes the journal, a service's usual stream.", name)
		}
	}
	if len(g.p.Preserve) > 0 {
		u.note("fds.preserve = %v: systemd closes every inherited fd but the streams and the sockets it passes; nothing carries these over.", g.p.Preserve)
	}
	systemdSocketNotes(u, g.s)
	if len(g.sockets) > 0 {
		u.set("Sockets", strings.Join(g.sockets, " "))
		u.note("[[fds.listen]]: the socket units pass them with LISTEN_FDS and LISTEN_FDNAMES, in an order systemd chooses: find them by name (sd_listen_fds_with_names).")
	}
}

func (g *serviceGen) lifecycle() {
	u, p := &g.u, g.p
	if p.Ready == spec.ReadyNotify {
		u.set("Type", "notify")
	} else {
		u.set("Type", "exec")
	}
	u.set("TimeoutStartSec", duration(p.ReadyTimeout))
	u.set("Restart", string(p.Restart))
	if p.Restart != spec.RestartNo {
		u.note("daemon.restart: daemonbox backs off from 100ms, doubling to 30s; systemd 252 waits RestartSec= (100ms) each time, up to StartLimitBurst= starts in StartLimitIntervalSec=.")
	}
	if p.Pidfile != "" {
		u.line("PIDFile", p.Pidfile)
		u.note("daemon.pidfile: daemonbox wrote it for the daemon; systemd knows the main pid without it, reads it only if the daemon writes it, and removes it at stop.")
	}
	g.watchdog()
	if p.Detach {
		u.note("daemon.detach = true: a service always runs in the background; `systemctl start` returns when Type= says it started.")
	}
	u.set("KillSignal", spec.SignalName(p.Stop))
	u.set("TimeoutStopSec", duration(p.StopTimeout))
	u.note("signals.reload: \"+\" runs kill outside the sandbox, as root, as daemonbox's supervisor sends it.")
	u.set("ExecReload", "+/bin/kill -s "+spec.SignalName(p.Reload)+" $MAINPID")
	g.signals()
}

// watchdog writes daemon.watchdog, which systemd has as it is (SIGABRT,
// WATCHDOG_USEC, NotifyAccess=main implied), and daemon.start_settle,
// which it has not.
func (g *serviceGen) watchdog() {
	u, p := &g.u, g.p
	if p.Watchdog > 0 {
		u.set("WatchdogSec", duration(p.Watchdog))
	}
	if p.StartSettle > 0 {
		u.note("daemon.start_settle = %s: systemd has no such wait; `systemctl start` returns at the exec (Type=exec), and a daemon that dies right after shows in `systemctl status`.", duration(p.StartSettle))
	}
}

func (g *serviceGen) signals() {
	u, p := &g.u, g.p
	u.set("IgnoreSIGPIPE", yes(slices.Contains(p.Ignore, int(syscall.SIGPIPE))))
	var others []string
	for _, sig := range p.Ignore {
		if sig != int(syscall.SIGPIPE) {
			others = append(others, spec.SignalName(sig))
		}
	}
	if len(others) > 0 {
		u.note("signals.ignore: systemd can ignore only SIGPIPE; %s start at SIG_DFL here, where daemonbox ignores them.", strings.Join(others, " "))
	}
	if p.ParentDeath != 0 {
		u.note("signals.parent_death = %s: the service manager is the daemon's parent here, and has no such signal; the daemon outlives nothing it should not.", spec.SignalName(p.ParentDeath))
	}
}

// landlock writes [landlock]: only its TCP bind rule has a systemd
// counterpart (SocketBindAllow=, a cgroup BPF program).
func (g *serviceGen) landlock() {
	u, l := &g.u, g.s.Landlock
	if !l.Set {
		return
	}
	u.note("[landlock] (mode %s) has no systemd directive: these rules are not enforced by this unit.", l.Mode)
	for _, r := range []struct {
		key   string
		paths []string
	}{{"read", l.Read}, {"write", l.Write}, {"execute", l.Execute}} {
		u.note("landlock.%s = [%s]", r.key, strings.Join(r.paths, " "))
	}
	if l.RestrictConnect {
		u.note("landlock.connect_tcp = %v: systemd has no rule on the ports a service connects to.", l.ConnectTCP)
	}
	if l.RestrictBind {
		u.note("landlock.bind_tcp = %v: SocketBindDeny= and SocketBindAllow= say the same with a cgroup BPF program, enforced on cgroup v2 only.", l.BindTCP)
		u.set("SocketBindDeny", "tcp")
		for _, port := range l.BindTCP {
			u.set("SocketBindAllow", "tcp:"+strconv.Itoa(int(port)))
		}
	}
}
