package vmtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestExampleMinimal(t *testing.T) {
	need(t)
	r := launch{file: "../examples/minimal.toml"}.do(t)
	for _, want := range []string{"CapBnd:\t0000000000000000", "NoNewPrivs:\t1", "SigIgn:\t0000000000380000"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("exit %d, output lacks %q:\n%s%s", r.code, want, r.stdout, r.stderr)
		}
	}
}

// The chrooted examples serve a page as nobody with only the capabilities
// their specs keep.
func TestExampleHTTPD(t *testing.T) {
	need(t)
	makeHTTPDRoot(t)
	pid := serve(t, launch{file: "../examples/httpd.toml"}, "http://127.0.0.1:80/")
	status := procStatus(t, pid)
	for _, want := range []string{"Uid:\t65534\t65534\t65534\t65534", "CapEff:\t0000000000000400", "CapBnd:\t0000000000000400", "CapAmb:\t0000000000000400", "NoNewPrivs:\t1"} {
		if !strings.Contains(status, want) {
			t.Errorf("the daemon's status lacks %q", want)
		}
	}
	if root, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/root"); root != "/srv/daemonbox-httpd" {
		t.Errorf("the daemon's root is %q", root)
	}
}

func TestExampleFull(t *testing.T) {
	need(t)
	makeHTTPDRoot(t)
	os.Remove("/var/log/daemonbox-full.log")
	defer func() {
		if t.Failed() { // what the daemon, or the stage before it, said
			t.Logf("/var/log/daemonbox-full.log:\n%s", readLog("/var/log/daemonbox-full.log"))
		}
	}()
	preserved, _ := os.Open("/etc/hostname")
	defer preserved.Close()
	// Its log file makes daemonbox stay as the supervisor: the daemon is its child.
	pid := onlyChild(t, serve(t, launch{file: "../examples/full.toml", extra: []*os.File{preserved}}, "http://127.0.0.1:8080/"))
	status := procStatus(t, pid)
	for _, want := range []string{"Uid:\t65534\t65534\t65534\t65534", "CapBnd:\t0000000000000000"} {
		if !strings.Contains(status, want) {
			t.Errorf("the daemon's status lacks %q", want)
		}
	}
	if !strings.Contains(strings.ReplaceAll(status, " ", ""), "Groups:\t\n") {
		t.Error("the daemon has supplementary groups")
	}
	if target, _ := os.Readlink("/proc/" + strconv.Itoa(pid) + "/fd/3"); target != "/etc/hostname" {
		t.Errorf("fd 3 is %q, want the preserved /etc/hostname", target)
	}
	if limits, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/limits"); !strings.Contains(string(limits), "Max open files            256                  1024") {
		t.Errorf("nofile not applied:\n%s", limits)
	}
}

func makeHTTPDRoot(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("../examples/make-httpd-root.sh").CombinedOutput(); err != nil {
		if strict {
			t.Fatalf("%s", out)
		}
		t.Skipf("%s", out)
	}
}

// serve starts a daemon that daemonbox execs in place, waits (bounded) until
// url answers with the example page, and stops it when the test ends.
func serve(t *testing.T, l launch, url string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	cmd := l.command(t, ctx)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited; cancel() })
	waitAccepting(t, strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/"), exited)
	resp, err := (&http.Client{Timeout: acceptWait}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "served by busybox httpd under daemonbox") {
		t.Errorf("GET %s: %s %q", url, resp.Status, body)
	}
	return cmd.Process.Pid
}

// acceptWait bounds the wait for a daemon's port: generous, because under
// TCG in vmtest's VM a daemon's setup alone can take seconds.
const acceptWait = 45 * time.Second

// waitAccepting waits (bounded) until host accepts a connection. A value
// on exited (the launcher's end) ends the wait at once; nil: not watched.
func waitAccepting(t *testing.T, host string, exited chan error) {
	t.Helper()
	deadline := time.Now().Add(acceptWait)
	for {
		conn, err := net.DialTimeout("tcp", host, time.Second)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not accept connections within %s: %v", host, acceptWait, err)
		}
		select {
		case err := <-exited:
			exited <- err // for the cleanup
			t.Fatalf("daemonbox ended (%v) before %s accepted connections", err, host)
		case <-time.After(20 * time.Millisecond): // polling a port that is not open yet; bounded by the deadline
		}
	}
}

// onlyChild returns the one child of pid.
func onlyChild(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	fields := strings.Fields(string(b))
	if err != nil || len(fields) != 1 {
		t.Fatalf("children of %d: %q %v", pid, b, err)
	}
	child, _ := strconv.Atoi(fields[0])
	return child
}

func procStatus(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The service example, driven as an init script would drive it.
func TestExampleService(t *testing.T) {
	need(t)
	makeHTTPDRoot(t)
	l := lifecycle{file: "../examples/service.toml", pidfile: "/run/daemonbox-service.pid", log: "/var/log/daemonbox-service.log"}
	t.Cleanup(func() { l.do(t, "stop") })
	os.Remove(l.log)
	l.must(t, "start")
	pid := l.pid(t)
	if r := l.do(t, "status"); r.code != 0 || !strings.Contains(r.stdout, "httpd-service: running") {
		t.Errorf("status: %d %q", r.code, r.stdout)
	}
	waitAccepting(t, "127.0.0.1:8081", nil) // start returns at exec; httpd binds after
	resp, err := (&http.Client{Timeout: acceptWait}).Get("http://127.0.0.1:8081/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "served by busybox httpd under daemonbox") {
		t.Errorf("GET: %s %q", resp.Status, body)
	}
	waitLog(t, l.log, "response:200") // httpd -v logs the request to stderr: the log file
	l.must(t, "reload")
	l.must(t, "restart")
	if l.pid(t) == pid || !exited(pid, time.Second) {
		t.Error("restart did not replace the daemon")
	}
	l.must(t, "stop")
	if r := l.do(t, "status"); r.code != 3 {
		t.Errorf("status after stop: %d %q", r.code, r.stdout)
	}
}

// The isolated example serves on the loopback of its own network
// namespace: reachable from inside it, not from the host.
// The isolated example serves inside its network namespace, as root and,
// the same spec, rootless.
func TestExampleIsolated(t *testing.T) { eachMode(t, exampleIsolated) }

func exampleIsolated(t *testing.T, m mode) {
	makeHTTPDRoot(t)
	nsenter, err := exec.LookPath("nsenter")
	if err != nil {
		t.Skip("needs nsenter (util-linux)")
	}
	l := lifecycle{file: "../examples/isolated.toml", pidfile: "/run/daemonbox/isolated.pid"}
	uid := "65534"
	if m.rootless {
		run := rootDir(t)
		os.Chown(run, int(rootlessUID), int(rootlessGID))
		l.rootless, l.env = true, []string{"PATH=/usr/bin:/bin", "XDG_RUNTIME_DIR=" + run}
		// A copy the test user can read wherever the repository is.
		text, err := os.ReadFile(l.file)
		if err != nil {
			t.Fatal(err)
		}
		l.file = specFile(t, string(text))
		l.pidfile = filepath.Join(run, "daemonbox/isolated.pid")
		uid = strconv.Itoa(int(rootlessUID))
	}
	t.Cleanup(func() { l.do(t, "stop") })
	l.must(t, "start")
	pid := l.pid(t)
	var body []byte
	deadline := time.Now().Add(10 * time.Second)
	for {
		body, err = exec.Command(nsenter, "--net=/proc/"+strconv.Itoa(pid)+"/ns/net",
			"/srv/daemonbox-httpd/bin/busybox", "wget", "-q", "-O-", "http://127.0.0.1:8080/").CombinedOutput()
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // httpd may not listen yet; bounded by the deadline
	}
	if !strings.Contains(string(body), "served by busybox httpd under daemonbox") {
		t.Errorf("GET inside the namespace: %v %q", err, body)
	}
	if conn, err := net.DialTimeout("tcp", "127.0.0.1:8080", time.Second); err == nil {
		conn.Close()
		t.Error("the host reached the isolated daemon")
	}
	st := procStatus(t, pid)
	if !strings.Contains(st, "Uid:\t"+uid+"\t") || !strings.Contains(st, "CapEff:\t0000000000000000") || !strings.Contains(st, "CapBnd:\t0000000000000000") {
		t.Errorf("not confined as the example says:\n%s", st)
	}
	l.must(t, "stop")
	if !exited(pid, 0) || fileExists(l.pidfile) {
		t.Error("stop returned with the daemon or its pidfile still there")
	}
}

// Each example's exposure score, as explain prints it, is pinned: a change
// that loosens (or tightens) an example, or the scoring, shows here. The
// scores are this host's (root, Landlock ABI 4 or later, cgroups for root).
func TestExampleExposure(t *testing.T) {
	need(t)
	want := map[string]string{
		"minimal.toml":      "3.7 OK",
		"httpd.toml":        "2.5 OK",
		"service.toml":      "2.0 OK",
		"full.toml":         "1.9 OK",
		"isolated.toml":     "0.5 SAFE",
		"socket.toml":       "2.7 OK",
		"nginx.toml":        "1.1 OK",
		"nginx-socket.toml": "0.5 SAFE",
		"redis.toml":        "1.2 OK",
		"hellod.toml":       "1.1 OK",
	}
	// The real daemons' examples name their packages' users and binaries.
	installed := map[string]string{"nginx.toml": "/usr/sbin/nginx", "nginx-socket.toml": "/usr/sbin/nginx", "redis.toml": "/usr/bin/redis-server"}
	for file, score := range want {
		if bin, ok := installed[file]; ok && !fileExists(bin) && !strict {
			t.Logf("%s not scored: %s is not installed", file, bin)
			continue
		}
		r := launch{file: "../examples/" + file, cmd: "explain"}.do(t)
		got := exposureLine(r.stdout)
		if r.code != 0 || got != score {
			t.Errorf("%s: exposure %q (exit %d), pinned at %q", file, got, r.code, score)
		}
	}
	gate := launch{file: "../examples/minimal.toml", cmd: "check", args: []string{"--max-exposure", "3"}}.do(t)
	if gate.code != 125 || !strings.Contains(gate.stderr, "exposure 3.7 OK is above --max-exposure 3.0") {
		t.Errorf("check --max-exposure 3 on a 3.7 spec: exit %d, stderr %q", gate.code, gate.stderr)
	}
	pass := launch{file: "../examples/isolated.toml", cmd: "check", args: []string{"--max-exposure=1"}}.do(t)
	if pass.code != 0 {
		t.Errorf("check --max-exposure=1 on isolated.toml: exit %d, stderr %q", pass.code, pass.stderr)
	}
}

// exposureLine is "SCORE LABEL" from explain's last line.
func exposureLine(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "exposure" {
			return f[1] + " " + f[2]
		}
	}
	return ""
}
