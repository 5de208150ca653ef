package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Unit is the hardened unit the systemd column stands for: what
// `systemd-analyze security` asks of a service, with the probe as its
// command. systemd is not PID 1 here, so it cannot run; its column is
// computed by printSystemd from what each directive is documented to do.
const Unit = `[Unit]
Description=daemonbox reach: the probe under a hardened unit

[Service]
ExecStart=/probe syscalls
User=nobody
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
SystemCallArchitectures=native
RestrictNamespaces=yes
LockPersonality=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6
MemoryDenyWriteExecute=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
PrivateNetwork=yes
PrivateDevices=yes
PrivateTmp=yes
PrivateUsers=yes
ProtectSystem=strict
ProtectHome=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
KeyringMode=private
RemoveIPC=yes
UMask=0077
DevicePolicy=closed
IPAddressDeny=any
`

// byDirective are the calls a directive other than SystemCallFilter=
// decides, whatever the filter holds, with systemd 252's answer.
var byDirective = map[string]string{
	// RestrictNamespaces=yes: unshare and clone with any CLONE_NEW* flag,
	// and setns whatever its flags, get EPERM; clone3, whose flags a filter
	// cannot read, gets ENOSYS so that libc falls back to clone.
	"unshare": "EPERM", "clone_newuser": "EPERM", "setns": "EPERM", "clone3": "ENOSYS",
	// LockPersonality=yes: personality() with any value but the current
	// persona (0) gets EPERM, the 0xffffffff query included.
	"personality_linux32": "EPERM", "personality_query": "EPERM",
	// SystemCallArchitectures=native: a filter for x86-64 alone, whose
	// bad-architecture action (libseccomp's default, kill) also takes x32
	// numbers.
	"x32_getpid": "SIGSYS", "i386_getpid": "SIGSYS",
	// An allow-list answers numbers outside @known with ENOSYS (systemd 247).
	"nr1000": "ENOSYS",
	// RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6.
	"socket_alg": "EAFNOSUPPORT", "socket_vsock": "EAFNOSUPPORT", "socket_netlink": "EAFNOSUPPORT",
	// MemoryDenyWriteExecute=yes.
	"mmap_wx": "EPERM",
}

// byFilter are the calls SystemCallFilter=@system-service decides: the
// system call each one makes. In the set, the kernel answers as it does
// unconfined; out of it, SystemCallErrorNumber=EPERM.
var byFilter = map[string]string{
	"io_uring_setup": "io_uring_setup", "ptrace_traceme": "ptrace", "userfaultfd": "userfaultfd",
	"keyctl": "keyctl", "add_key": "add_key", "request_key": "request_key", "mount": "mount",
	"bpf": "bpf", "perf_event_open": "perf_event_open", "kexec_load": "kexec_load",
	"init_module": "init_module", "open_by_handle_at": "open_by_handle_at", "getpid": "getpid",
	"fork": "clone", "socket": "socket", "set_mempolicy": "set_mempolicy", "kcmp": "kcmp",
}

// printSystemd prints the unit's column as the probe's "call NAME RESULT"
// lines, from plain, the probe's output run as nobody without confinement.
func printSystemd(plain string) error {
	allowed, err := systemGroup("@system-service")
	if err != nil {
		return err
	}
	unconfined, order, err := readCalls(plain)
	if err != nil {
		return err
	}
	for _, call := range order {
		fmt.Printf("call %s %s\n", call, unitAnswer(call, unconfined[call], allowed))
	}
	return nil
}

// unitAnswer is the unit's answer to call, which unconfined got unconfined.
func unitAnswer(call, unconfined string, allowed map[string]bool) string {
	if call == "i386_getpid" && unconfined == "SIGSEGV" {
		return unconfined // the kernel refuses int 0x80 before any filter runs
	}
	if r, ok := byDirective[call]; ok {
		return r
	}
	name, ok := byFilter[call]
	switch {
	case !ok:
		return "?" // a call added to the probe that this table does not know yet
	case allowed[name]:
		return unconfined
	}
	return "EPERM"
}

// readCalls reads the probe's "call NAME RESULT" lines, in order.
func readCalls(path string) (map[string]string, []string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	got := map[string]string{}
	var order []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "call" {
			got[f[1]] = f[2]
			order = append(order, f[1])
		}
	}
	return got, order, nil
}

// systemGroup expands a group of `systemd-analyze syscall-filter`, nested
// groups included.
func systemGroup(name string) (map[string]bool, error) {
	out, err := exec.Command("systemd-analyze", "syscall-filter").Output()
	if err != nil {
		return nil, fmt.Errorf("systemd-analyze syscall-filter: %w", err)
	}
	groups := parseGroups(out)
	if _, ok := groups[name]; !ok {
		return nil, fmt.Errorf("systemd-analyze lists no group %s", name)
	}
	set := map[string]bool{}
	var add func(string)
	add = func(g string) {
		for _, m := range groups[g] {
			if strings.HasPrefix(m, "@") {
				add(m)
			} else {
				set[m] = true
			}
		}
	}
	add(name)
	return set, nil
}

// parseGroups reads `systemd-analyze syscall-filter`: a group's name at the
// start of a line, its members indented below, comments after '#'.
func parseGroups(out []byte) map[string][]string {
	groups := map[string][]string{}
	current := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		word := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "@"):
			current = word
		case word == "" || strings.HasPrefix(word, "#") || !strings.HasPrefix(line, " "):
			if !strings.HasPrefix(line, " ") {
				current = ""
			}
		case current != "":
			groups[current] = append(groups[current], word)
		}
	}
	return groups
}
