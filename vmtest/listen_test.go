package vmtest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Socket activation ([[fds.listen]]): the probe reports, from inside, the
// sockets it got at fds 3 onward and the LISTEN_* variables.

// freeNetPort is a port on 127.0.0.1 that no one uses now, for network
// ("tcp4" or "udp4").
func freeNetPort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp4" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	return freePort(t)
}

// env is the probe's environment as a map.
func (r report) env(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, h := range r["env"] {
		b, _ := hexDecode(h)
		k, v, _ := strings.Cut(string(b), "=")
		out[k] = v
	}
	return out
}

func hexDecode(s string) ([]byte, error) {
	if s == "-" {
		return nil, nil
	}
	out := make([]byte, len(s)/2)
	for i := range out {
		n, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, err
		}
		out[i] = byte(n)
	}
	return out, nil
}

// Each kind of address arrives at its fd, bound and (for streams) listening,
// not close-on-exec, named in LISTEN_FDNAMES, with LISTEN_PID the daemon's
// pid; a unix socket file has the spec's mode and owner. In place and
// under a supervisor.
func TestListenKinds(t *testing.T) {
	need(t)
	dir := rootDir(t)
	sock := filepath.Join(dir, "ctl.sock")
	tcp, udp, tcp6 := freePort(t), freeNetPort(t, "udp4"), freePort(t)
	spec := fmt.Sprintf(minimal+`[user]
user = "nobody"
[[fds.listen]]
name = "web"
address = "tcp://127.0.0.1:%d"
[[fds.listen]]
name = "dns"
address = "udp://127.0.0.1:%d"
[[fds.listen]]
name = "web6"
address = "tcp6://[::1]:%d"
[[fds.listen]]
name = "ctl"
address = "unix://%s"
mode = 0o660
owner = "nobody:nogroup"
`, tcp, udp, tcp6, sock)
	for _, supervised := range []bool{false, true} {
		t.Run(fmt.Sprintf("supervised=%v", supervised), func(t *testing.T) {
			rep := launch{spec: spec, groupLeader: supervised}.ok(t)
			want := []string{
				fmt.Sprintf("3 inet stream 127.0.0.1 %d 1", tcp),
				fmt.Sprintf("4 inet dgram 127.0.0.1 %d 0", udp),
				fmt.Sprintf("5 inet6 stream ::1 %d 1", tcp6),
				fmt.Sprintf("6 unix stream %s - 1", sock),
			}
			if got := rep["sock"]; strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("sockets\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			fds := rep.fds()
			for fd := 3; fd <= 6; fd++ {
				if !strings.HasSuffix(fds[fd], " 0") {
					t.Errorf("fd %d is %q: want it open, not close-on-exec", fd, fds[fd])
				}
			}
			if len(fds) != 7 {
				t.Errorf("open fds %v, want 0 to 6", keys(fds))
			}
			env := rep.env(t)
			if env["LISTEN_FDS"] != "4" || env["LISTEN_FDNAMES"] != "web:dns:web6:ctl" || env["LISTEN_PID"] != rep.one(t, "pid") {
				t.Errorf("LISTEN_FDS=%q LISTEN_FDNAMES=%q LISTEN_PID=%q (pid %s)", env["LISTEN_FDS"], env["LISTEN_FDNAMES"], env["LISTEN_PID"], rep.one(t, "pid"))
			}
			var st syscall.Stat_t
			if err := syscall.Stat(sock, &st); err != nil || st.Mode != syscall.S_IFSOCK|0o660 || st.Uid != 65534 || st.Gid != 65534 {
				t.Errorf("%s: mode %o uid %d gid %d (%v), want a socket 0660 nobody:nogroup", sock, st.Mode, st.Uid, st.Gid, err)
			}
		})
	}
}

// In a PID namespace, LISTEN_PID is the pid the daemon sees, not the
// host's: sd_listen_fds compares it with getpid().
func TestListenPIDNamespace(t *testing.T) {
	need(t)
	for _, init := range []bool{true, false} {
		spec := fmt.Sprintf(minimal+"[namespaces]\npid = true\ninit = %v\nmount = true\n[[fds.listen]]\nname = \"web\"\naddress = \"tcp://127.0.0.1:%d\"\n", init, freePort(t))
		rep := launch{spec: spec}.ok(t)
		// The daemon is PID 1 itself, or the child of daemonbox's PID 1
		// (staged), or PID 2, the supervisor's child, whose parent is
		// outside the namespace (one-image).
		pid, ppid := rep.one(t, "pid"), rep.one(t, "ppid")
		inNS := pid == "1" && !init || ppid == "1" && init || pid == "2" && ppid == "0" && init
		if got := rep.env(t)["LISTEN_PID"]; got != pid || !inNS {
			t.Errorf("init=%v: LISTEN_PID=%q, the daemon's pid %s, ppid %s: want the pid it sees in its namespace", init, got, pid, ppid)
		}
		if len(rep["sock"]) != 1 || !strings.HasPrefix(rep["sock"][0], "3 inet stream 127.0.0.1") {
			t.Errorf("init=%v: sockets %q", init, rep["sock"])
		}
	}
}

// A supervisor opens the sockets once: every restart gets the same socket.
func TestListenKeptAcrossRestarts(t *testing.T) {
	need(t)
	port := freePort(t)
	l := newLifecycle(t, fmt.Sprintf("restart = \"always\"\n[[fds.listen]]\nname = \"web\"\naddress = \"tcp://127.0.0.1:%d\"\n", port), "report")
	l.must(t, "start")
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(readLog(l.log), "\nend\n") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no second run within 10s:\n%s", readLog(l.log))
		}
		time.Sleep(5 * time.Millisecond) // polling a file another process writes; bounded
	}
	l.must(t, "stop")
	var seen []string
	sc := bufio.NewScanner(strings.NewReader(readLog(l.log)))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "fd 3 ") {
			seen = append(seen, sc.Text())
		}
	}
	if len(seen) < 2 || seen[0] != seen[1] {
		t.Errorf("fd 3 in the first two runs: %q; want the same socket (device and inode)", seen)
	}
	// And the supervisor's socket is gone with it.
	if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
		c.Close()
		t.Error("the port still accepts connections after stop")
	}
}

// A socket daemonbox cannot bind fails the launch, naming the step, the
// socket, its address and the errno; nothing runs.
func TestListenAddressInUse(t *testing.T) {
	need(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := "tcp://" + ln.Addr().String()
	for _, cmd := range []string{"run", "start"} {
		r := launch{cmd: cmd, spec: minimal + "[[fds.listen]]\nname = \"web\"\naddress = \"" + addr + "\"\n"}.do(t)
		want := `step "listen": bind "web" ` + addr + `: address already in use`
		if r.code != 125 || !strings.Contains(r.stderr, want) || r.rep.has("end") {
			t.Errorf("%s: exit %d, stderr %q; want 125 and %q", cmd, r.code, r.stderr, want)
		}
	}
}

// Sockets that systemd passed daemonbox (LISTEN_FDS, LISTEN_PID being
// daemonbox's pid) are handed on by the name systemd gave them.
func TestListenFromSystemd(t *testing.T) {
	need(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, _ := ln.(*net.TCPListener).File()
	defer f.Close()
	other, _ := os.Open("/dev/null")
	defer other.Close()
	// As systemd would start daemonbox: fds 3 and 4, and LISTEN_PID its pid.
	wrap := []string{"/bin/sh", "-c", `export LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=other:web.socket; exec "$0" "$@"`}
	spec := minimal + "[[fds.listen]]\nname = \"http\"\naddress = \"systemd:web.socket\"\n"
	for _, supervised := range []bool{false, true} {
		rep := launch{spec: spec, wrap: wrap, extra: []*os.File{other, f}, groupLeader: supervised}.ok(t)
		port := ln.Addr().(*net.TCPAddr).Port
		if got := rep["sock"]; len(got) != 1 || got[0] != fmt.Sprintf("3 inet stream 127.0.0.1 %d 1", port) {
			t.Errorf("supervised=%v: sockets %q, want systemd's at fd 3", supervised, got)
		}
		if env := rep.env(t); env["LISTEN_FDS"] != "1" || env["LISTEN_FDNAMES"] != "http" {
			t.Errorf("supervised=%v: LISTEN_FDS=%q LISTEN_FDNAMES=%q", supervised, env["LISTEN_FDS"], env["LISTEN_FDNAMES"])
		}
	}
	r := launch{spec: strings.Replace(spec, "web.socket", "nope", 1), wrap: wrap, extra: []*os.File{other, f}}.do(t)
	if r.code != 125 || !strings.Contains(r.stderr, `no socket named "nope" in LISTEN_FDNAMES`) {
		t.Errorf("unknown name: exit %d, %q", r.code, r.stderr)
	}
}

// The example: port 80 (here a free port below 1024) served by a daemon
// that runs as nobody with no capability, in an empty network namespace.
func TestExampleSocket(t *testing.T) {
	need(t)
	port := freeLowPort(t)
	b, err := os.ReadFile("../examples/socket.toml")
	if err != nil {
		t.Fatal(err)
	}
	spec := strings.Replace(string(b), "127.0.0.1:80\"", fmt.Sprintf("127.0.0.1:%d\"", port), 1)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := launch{spec: spec}.command(t, ctx)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	body := get(t, fmt.Sprintf("127.0.0.1:%d", port))
	if !strings.Contains(body, "served on fd 3 as uid 65534, LISTEN_FDNAMES=http") {
		t.Errorf("answer %q", body)
	}
	pid := cmd.Process.Pid // in place: daemonbox became the daemon
	status := procStatus(t, pid)
	for _, want := range []string{"Uid:\t65534\t65534\t65534\t65534", "CapEff:\t0000000000000000", "CapBnd:\t0000000000000000"} {
		if !strings.Contains(status, want) {
			t.Errorf("the daemon's status lacks %q", want)
		}
	}
	mine, _ := os.Readlink("/proc/self/ns/net")
	if its, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid)); its == mine || its == "" {
		t.Errorf("the daemon's network namespace is %q, the host's %q", its, mine)
	}
}

// freeLowPort is a port below 1024 on 127.0.0.1 that no one uses now.
func freeLowPort(t *testing.T) int {
	t.Helper()
	for p := 1023; p > 600; p-- {
		if ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p)); err == nil {
			ln.Close()
			return p
		}
	}
	t.Skip("no free port between 601 and 1023")
	return 0
}

// get sends one HTTP request to host, once it accepts (bounded), and
// returns the answer.
func get(t *testing.T, host string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err == nil {
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(c, "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", host)
			b, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not accept connections within 10s: %v", host, err)
		}
		time.Sleep(20 * time.Millisecond) // polling a port that is not open yet; bounded by the deadline
	}
}

// Streams a daemon can reopen: a daemon as nobody opens /dev/stderr and
// /dev/stdout for writing, and the lines reach the log through the
// supervisor's pipe, which is the daemon's; on the host's ids and in a user
// namespace.
func TestReopenStdStreams(t *testing.T) {
	need(t)
	for _, userns := range []bool{false, true} {
		dir := rootDir(t)
		log := filepath.Join(dir, "d.log")
		spec := fmt.Sprintf(`[process]
command = ["/bin/sh", "-c", "echo to-stderr >/dev/stderr && echo to-stdout >/dev/stdout"]
[user]
user = "nobody"
[fds]
stdout = %q
stderr = %q
`, log, log)
		if userns {
			spec = withUserNS(spec)
		}
		r := launch{spec: spec}.do(t)
		got := readLog(log)
		if r.code != 0 || !strings.Contains(got, "to-stderr\n") || !strings.Contains(got, "to-stdout\n") {
			t.Errorf("userns=%v: exit %d, stderr %q, log:\n%s", userns, r.code, r.stderr, got)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(log, &st); err != nil || st.Uid != 0 || st.Mode&0o777 != 0o640 {
			t.Errorf("userns=%v: the log is uid %d mode %o (%v), want root's 0640", userns, st.Uid, st.Mode&0o777, err)
		}
	}
}

// As root and rootless, in a user namespace with a PID and network
// namespace: the socket, opened on the host before the clone, arrives.
func TestListenEachMode(t *testing.T) {
	eachMode(t, func(t *testing.T, m mode) {
		port := freePort(t)
		spec := fmt.Sprintf(minimal+"[namespaces]\nuser = true\npid = true\nnetwork = true\n[[fds.listen]]\nname = \"web\"\naddress = \"tcp://127.0.0.1:%d\"\n", port)
		if !m.rootless {
			spec += "[user]\nuser = \"nobody\"\n" // a user namespace must not hold host uid 0
		}
		l := m.launch(spec)
		l.spec = spec // withUserNS would add user = true again
		rep := l.ok(t)
		if got := rep["sock"]; len(got) != 1 || got[0] != fmt.Sprintf("3 inet stream 127.0.0.1 %d 1", port) {
			t.Errorf("sockets %q", got)
		}
		if env := rep.env(t); env["LISTEN_PID"] != rep.one(t, "pid") || env["LISTEN_FDNAMES"] != "web" {
			t.Errorf("LISTEN_PID=%q (pid %s) LISTEN_FDNAMES=%q", env["LISTEN_PID"], rep.one(t, "pid"), env["LISTEN_FDNAMES"])
		}
	})
}
