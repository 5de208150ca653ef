package vmtest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/daemonbox/daemonbox/cgroup"
)

// Real daemons from Debian's packages, run unchanged from their examples:
// confined, started, driven with real traffic, reloaded, and stopped with
// nothing of theirs left. Each example has its own name, paths and port, so
// that other daemonbox services of the machine are left alone.

// realDaemon is one of those examples as a test drives it.
type realDaemon struct {
	name    string // the spec's name: its pidfile and cgroup
	user    string // the user it runs as
	hostNet bool   // it binds in the host's network namespace
	extra   []*os.File
	l       lifecycle
}

// newRealDaemon prepares examples/EXAMPLE.toml, set up by setup-daemons.sh
// SETUP, after checking that the binaries it needs (with their packages) are
// installed.
func newRealDaemon(t *testing.T, example, setup, name, user string, needs ...[2]string) *realDaemon {
	t.Helper()
	need(t)
	for _, n := range needs {
		if _, err := os.Stat(n[0]); err != nil {
			skipOrFail(t, fmt.Sprintf("the %s example needs %s: apt-get install %s", example, n[0], n[1]))
		}
	}
	setupExample(t, setup)
	t.Cleanup(func() { setupExample(t, setup) }) // the config as shipped, whatever the test changed
	d := &realDaemon{name: name, user: user, hostNet: true, l: lifecycle{
		file:    "../examples/" + example + ".toml",
		pidfile: "/run/daemonbox/" + name + ".pid",
		log:     "/var/log/daemonbox-" + example + ".log",
	}}
	t.Cleanup(func() { d.l.do(t, "stop") })
	os.Remove(d.l.log)
	return d
}

func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if strict {
		t.Fatal(why)
	}
	t.Skip(why)
}

func setupExample(t *testing.T, example string) {
	t.Helper()
	if out, err := exec.Command("../examples/setup-daemons.sh", example).CombinedOutput(); err != nil {
		skipOrFail(t, string(out))
	}
}

// start starts the daemon and checks its confinement; it returns the
// daemon's pid and every process of its cgroup and its supervisor, which
// stop must end.
func (d *realDaemon) start(t *testing.T) (int, []int) {
	t.Helper()
	if r := (launch{cmd: "start", file: d.l.file, extra: d.extra}).do(t); r.code != 0 {
		t.Fatalf("daemonbox start: exit %d\n%s\nlog: %s", r.code, r.stderr, readLog(d.l.log))
	}
	pid := d.l.pid(t)
	checkConfined(t, pid, d.user, d.hostNet)
	g, err := cgroup.New("daemonbox/" + d.name)
	if err != nil {
		t.Fatal(err)
	}
	procs, err := g.Procs()
	if err != nil || len(procs) < 2 {
		t.Fatalf("the cgroup %s holds %v (%v): want daemonbox's init and the daemon", g, procs, err)
	}
	return pid, append(procs, ppid(t, ppid(t, pid)))
}

// stop stops the daemon and checks that nothing of it is left: none of the
// processes it had, no pidfile, no cgroup.
func (d *realDaemon) stop(t *testing.T, procs []int) {
	t.Helper()
	d.l.must(t, "stop")
	for _, p := range procs {
		if !exited(p, time.Second) {
			t.Errorf("process %d outlived stop", p)
		}
	}
	if fileExists(d.l.pidfile) {
		t.Errorf("stop left %s", d.l.pidfile)
	}
	if g, err := cgroup.New("daemonbox/" + d.name); err != nil || g.Exists() {
		t.Errorf("stop left the cgroup %s (%v)", g, err)
	}
	if r := d.l.do(t, "status"); r.code != 3 {
		t.Errorf("status after stop: exit %d, %q", r.code, r.stdout)
	}
}

// checkConfined checks what every real-daemon example says: its user, no
// capability, no_new_privs, the filter, its own namespaces but the
// network's unless it has its own, a read-only root and a private /tmp.
func checkConfined(t *testing.T, pid int, name string, hostNet bool) {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	status := procStatus(t, pid)
	for _, want := range []string{"Uid:\t" + u.Uid + "\t" + u.Uid + "\t", "CapEff:\t0000000000000000", "CapBnd:\t0000000000000000",
		"CapAmb:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2"} {
		if !strings.Contains(status, want) {
			t.Errorf("the daemon's status lacks %q", want)
		}
	}
	for _, ns := range []string{"user", "pid", "ipc", "uts", "mnt", "cgroup", "net"} {
		own, _ := os.Readlink(procPath(pid, "ns/"+ns))
		host, _ := os.Readlink("/proc/self/ns/" + ns)
		if (own == host) != (ns == "net" && hostNet) {
			t.Errorf("namespace %s: the daemon's %q, the host's %q", ns, own, host)
		}
	}
	mounts := mountsOf(t, pid)
	if !strings.Contains(","+mounts["/"][0]+",", ",ro,") {
		t.Errorf("the daemon's root is mounted %q, want read-only", mounts["/"][0])
	}
	if mounts["/tmp"][1] != "tmpfs" {
		t.Errorf("the daemon's /tmp is %q, want a private tmpfs", mounts["/tmp"][1])
	}
}

// mountsOf maps each mount point of pid to its options and file system
// type; the last mount on a point is the one seen.
func mountsOf(t *testing.T, pid int) map[string][2]string {
	t.Helper()
	f, err := os.Open(procPath(pid, "mountinfo"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][2]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for i, field := range fields {
			if field == "-" && i+1 < len(fields) && len(fields) > 5 {
				out[fields[4]] = [2]string{fields[5], fields[i+1]}
				break
			}
		}
	}
	return out
}

// nginx as www-data, master and worker: HTTP requests with Go's client,
// and a reload that the master applies (a changed response header).
func TestExampleNginx(t *testing.T) {
	d := newRealDaemon(t, "nginx", "nginx", "nginx-example", "www-data", [2]string{"/usr/sbin/nginx", "nginx"})
	pid, procs := d.start(t)
	waitHTTP(t, nginxURL)
	nginxTraffic(t, d, pid, procs)
}

const nginxURL = "http://127.0.0.1:8480/"

// The same nginx in an empty network namespace: the test opens its
// listening socket, as systemd's .socket unit or systemd-socket-activate
// would, and hands it to daemonbox start as fd 3. The socket is the one
// way in, and it closes with the daemon.
func TestExampleNginxSocket(t *testing.T) {
	d := newRealDaemon(t, "nginx-socket", "nginx", "nginx-socket", "www-data", [2]string{"/usr/sbin/nginx", "nginx"})
	d.hostNet = false
	pid, procs := d.start(t)
	// No wait for nginx to listen: daemonbox's socket was listening before
	// nginx ran, and the first requests queue on it.
	nginxTraffic(t, d, pid, procs)
	if !strings.Contains(readLog(d.l.log), `using inherited sockets from "3;"`) {
		t.Errorf("nginx did not say it took the socket it was handed:\n%s", readLog(d.l.log))
	}
	if conn, err := net.DialTimeout("tcp", "127.0.0.1:8480", time.Second); err == nil {
		conn.Close()
		t.Error("the listening socket outlived the daemon")
	}
}

// nginxTraffic sends the running nginx requests, reloads it with a changed
// header, and stops it.
func nginxTraffic(t *testing.T, d *realDaemon, pid int, procs []int) {
	t.Helper()
	const url = nginxURL
	ok, took := httpLoad(t, url, 4, 250)
	if ok != 1000 {
		t.Errorf("%d of 1000 requests got the page", ok)
	}
	t.Logf("nginx under daemonbox: 1000 requests on 4 connections in %v", took)
	// access_log /dev/stdout: a non-root master reopened the pipe it was handed.
	waitLog(t, d.l.log, `"GET / HTTP/1.1" 200`)
	if h := getHeader(t, url, "X-Example"); h != "generation 1" {
		t.Errorf("X-Example: %q before the reload", h)
	}
	conf := "/etc/daemonbox-examples/nginx/nginx.conf"
	text, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(conf, []byte(strings.Replace(string(text), "generation 1", "generation 2", 1)), 0o644)
	d.l.must(t, "reload")
	deadline := time.Now().Add(10 * time.Second)
	for getHeader(t, url, "X-Example") != "generation 2" {
		if time.Now().After(deadline) {
			t.Fatalf("nginx never served the reloaded config:\n%s", readLog(d.l.log))
		}
		time.Sleep(20 * time.Millisecond) // the master starts new workers; bounded by the deadline
	}
	if d.l.pid(t) != pid || !strings.Contains(readLog(d.l.log), "reconfiguring") {
		t.Errorf("the reload was not the master's own (pid %d, now %d)", pid, d.l.pid(t))
	}
	// The reload replaced the worker: the new one must go with the rest.
	g, _ := cgroup.New("daemonbox/" + d.name)
	now, _ := g.Procs()
	d.stop(t, append(procs, now...))
}

// waitHTTP waits, bounded, until url answers.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer within 10s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond) // bounded by the deadline
	}
}

// httpLoad sends each of conns keep-alive clients n GETs; it returns how
// many got the example's page.
func httpLoad(t *testing.T, url string, conns, n int) (int, time.Duration) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	good := 0
	start := time.Now()
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
			for i := 0; i < n; i++ {
				resp, err := client.Get(url)
				if err != nil {
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 && strings.Contains(string(body), "served by nginx under daemonbox") {
					mu.Lock()
					good++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return good, time.Since(start)
}

func getHeader(t *testing.T, url, name string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get(name)
}

// redis-server as redis, ready through sd_notify: a SET and GET, a few
// seconds of redis-benchmark, a background save (a fork, and the one
// writable path), a reload it ignores, and its data kept across a restart.
func TestExampleRedis(t *testing.T) {
	d := newRealDaemon(t, "redis", "redis", "redis-example", "redis",
		[2]string{"/usr/bin/redis-server", "redis-server"}, [2]string{"/usr/bin/redis-benchmark", "redis-tools"})
	pid, procs := d.start(t)
	key, value := fmt.Sprintf("daemonbox-vmtest-%d", os.Getpid()), "kept"
	redisMust(t, "OK", "SET", key, value) // no wait: start returned after its READY=1
	redisMust(t, value, "GET", key)
	bench := exec.Command("redis-benchmark", "-h", "127.0.0.1", "-p", "6479", "-t", "set,get,incr", "-n", "60000", "-c", "20", "--csv")
	out, err := bench.CombinedOutput()
	if err != nil || strings.Count(string(out), "\n") != 4 {
		t.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	t.Logf("redis-benchmark under daemonbox:\n%s", out)
	redisMust(t, "Background saving started", "BGSAVE")
	waitLog(t, d.l.log, "Background saving terminated with success")
	if fi, err := os.Stat("/var/lib/daemonbox-redis/dump.rdb"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("dump.rdb: %v %v", fi, err)
	}
	// redis ignores SIGHUP: the reload leaves it serving, as it was.
	d.l.must(t, "reload")
	redisMust(t, value, "GET", key)
	if d.l.pid(t) != pid {
		t.Error("the reload replaced redis")
	}
	d.stop(t, procs)
	if !strings.Contains(readLog(d.l.log), "DB saved on disk\n") {
		t.Error("redis did not save its data when stopped")
	}
	_, procs = d.start(t)
	redisMust(t, value, "GET", key)
	redisMust(t, "1", "DEL", key)
	d.stop(t, procs)
}

// redisMust runs a command with redis-cli and requires its answer.
func redisMust(t *testing.T, want string, args ...string) {
	t.Helper()
	out, err := exec.Command("redis-cli", append([]string{"-h", "127.0.0.1", "-p", "6479"}, args...)...).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != want {
		t.Fatalf("redis-cli %v: %q (%v), want %q", args, out, err, want)
	}
}

// hellod, the tutorial-style Python daemon, unchanged: ready through
// sd_notify, greeting over TCP, its config re-read on SIGHUP.
func TestExampleHellod(t *testing.T) {
	d := newRealDaemon(t, "hellod", "hellod", "hellod", "nobody", [2]string{"/usr/bin/python3", "python3"})
	pid, procs := d.start(t)
	// ready = "notify": start returned after READY=1, sent once hellod
	// listens, so it answers now, with no wait.
	if got := greeting(t); got != "hello from hellod under daemonbox" {
		t.Errorf("greeting %q", got)
	}
	waitLog(t, d.l.log, "daemonbox: hellod: status: greeting 'hello from hellod under daemonbox'") // its STATUS=
	conf := "/etc/daemonbox-examples/hellod/hellod.conf"
	text, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	fresh := fmt.Sprintf("reloaded by test %d", os.Getpid())
	os.WriteFile(conf, []byte(strings.Replace(string(text), "hello from hellod under daemonbox", fresh, 1)), 0o644)
	d.l.must(t, "reload")
	waitLog(t, d.l.log, "greeting '"+fresh+"'")
	if got := greeting(t); got != fresh || d.l.pid(t) != pid {
		t.Errorf("after the reload: greeting %q, pid %d (was %d)", got, d.l.pid(t), pid)
	}
	d.stop(t, procs)
	if !strings.Contains(readLog(d.l.log), "hellod: INFO SIGTERM: exiting") {
		t.Errorf("hellod did not exit on its own SIGTERM handler:\n%s", readLog(d.l.log))
	}
}

func greeting(t *testing.T) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", "127.0.0.1:8490", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(line, "\n")
}
