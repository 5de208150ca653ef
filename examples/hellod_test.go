package examples

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hellod.py is a plain daemon: run with no daemonbox, by any user, it
// speaks sd_notify to whatever $NOTIFY_SOCKET names, greets, and re-reads
// its config on SIGHUP. (vmtest runs it under daemonbox, from hellod.toml.)
func TestHellodAlone(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skip("hellod.py needs Debian's python3: apt-get install python3")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "hellod.conf")
	writeHellodConf(t, conf, "first")
	manager, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "notify"), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer manager.Close()
	cmd := exec.Command(python, "hellod.py", "--config", conf)
	cmd.Env = []string{"NOTIFY_SOCKET=" + filepath.Join(dir, "notify")}
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	addr := listeningOn(t, stdout)
	expectNotice(t, manager, "READY=1\nSTATUS=greeting 'first'")
	expectGreeting(t, addr, "first")
	writeHellodConf(t, conf, "second")
	cmd.Process.Signal(syscall.SIGHUP)
	expectNotice(t, manager, "RELOADING=1\nMONOTONIC_USEC=")
	expectNotice(t, manager, "READY=1\nSTATUS=greeting 'second'")
	expectGreeting(t, addr, "second")
	cmd.Process.Signal(syscall.SIGTERM)
	expectNotice(t, manager, "STOPPING=1")
	if err := cmd.Wait(); err != nil {
		t.Errorf("hellod on SIGTERM: %v, want exit 0", err)
	}
}

func writeHellodConf(t *testing.T, path, greeting string) {
	t.Helper()
	text := "[hellod]\nlisten = 127.0.0.1:0\ngreeting = " + greeting + "\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// listeningOn reads hellod's log up to the line that says where it
// listens, and drains the rest in the background.
func listeningOn(t *testing.T, stdout interface{ Read([]byte) (int, error) }) string {
	t.Helper()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if _, addr, ok := strings.Cut(sc.Text(), "INFO listening on "); ok {
			go func() {
				for sc.Scan() {
				}
			}()
			return addr
		}
	}
	t.Fatalf("hellod never said where it listens: %v", sc.Err())
	return ""
}

// expectNotice reads the next sd_notify datagram, bounded, and requires
// its start.
func expectNotice(t *testing.T, c *net.UnixConn, want string) {
	t.Helper()
	buf := make([]byte, 4096)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := c.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), want) {
		t.Fatalf("sd_notify: %q (%v), want %q", buf[:max(n, 0)], err, want)
	}
}

func expectGreeting(t *testing.T, addr, want string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || line != want+"\n" {
		t.Errorf("greeting %q (%v), want %q", line, err, want)
	}
}
