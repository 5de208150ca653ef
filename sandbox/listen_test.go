package sandbox

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/daemonbox/daemonbox/spec"
	"golang.org/x/sys/unix"
)

func TestPlanListen(t *testing.T) {
	p, err := plan(t, rootHost(), `[[fds.listen]]
name = "http"
address = "tcp://127.0.0.1:80"
[[fds.listen]]
name = "ctl"
address = "unix:///run/ctl.sock"
owner = "www-data"
[[fds.listen]]
name = "adm"
address = "unix:///run/adm.sock"
mode = 0o600
owner = "4000:ssl-cert"
`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Socket{
		{Name: "http", Network: spec.NetTCP, Address: "tcp://127.0.0.1:80", Host: "127.0.0.1", Port: 80, Mode: 0o666, UID: -1, GID: -1},
		{Name: "ctl", Network: spec.NetUnix, Address: "unix:///run/ctl.sock", Path: "/run/ctl.sock", Mode: 0o666, UID: 33, GID: 33},
		{Name: "adm", Network: spec.NetUnix, Address: "unix:///run/adm.sock", Path: "/run/adm.sock", Mode: 0o600, UID: 4000, GID: 112},
	}
	if !slices.Equal(p.Listen, want) {
		t.Errorf("listen\n%+v\nwant\n%+v", p.Listen, want)
	}
	_, err = plan(t, rootHost(), "[[fds.listen]]\nname = \"a\"\naddress = \"unix:///x\"\nowner = \"mallory\"\n")
	if err == nil || !strings.Contains(err.Error(), `t.toml:6:9: fds.listen[0].owner: unknown name "mallory"`) {
		t.Errorf("unknown owner: %v", err)
	}
}

// ChildFiles puts the listen sockets at 3 onward, preserved fds at their
// numbers above them, and the stage's socket last.
func TestChildFilesListen(t *testing.T) {
	files, next := ChildFiles([3]int{-1, 7, -1}, []int{20, 21}, []int{9}, 30)
	closed := ^uintptr(0)
	want := []uintptr{0, 7, 2, 20, 21, closed, closed, closed, closed, 9, 30}
	if next != 10 || !slices.Equal(files, want) {
		t.Errorf("files %v next %d, want %v 10", files, next, want)
	}
	if _, next := ChildFiles([3]int{-1, -1, -1}, []int{20, 21}, nil, 30); next != 5 {
		t.Errorf("next %d, want 5", next)
	}
}

// A unix socket gets its mode at once; a stale file is replaced, a live
// socket or another file is refused, naming the socket and its address.
func TestOpenUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	s := Socket{Name: "ctl", Network: spec.NetUnix, Address: "unix://" + path, Path: path, Mode: 0o640, UID: -1, GID: -1}
	fd, err := s.open(nil)
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil || st.Mode&0o7777 != 0o640 || st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		t.Errorf("mode %o (%v), want a socket 0640", st.Mode, err)
	}
	if _, err := s.open(nil); err == nil || err.Error() != `step "": bind "ctl" unix://`+path+`: address already in use` {
		t.Errorf("second open of a live socket: %v", err)
	}
	unix.Close(fd)
	fd, err = s.open(nil) // the file is stale now
	if err != nil {
		t.Fatalf("a stale socket file is not replaced: %v", err)
	}
	unix.Close(fd)
	os.Remove(path)
	os.WriteFile(path, nil, 0o600)
	if _, err := s.open(nil); err == nil || !strings.Contains(err.Error(), "exists and is not a socket") {
		t.Errorf("a regular file at the path: %v", err)
	}
}

func TestOpenTCPInUse(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skip(err)
	}
	defer ln.Close()
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	s := Socket{Name: "http", Network: spec.NetTCP, Address: "tcp://127.0.0.1:x", Host: "127.0.0.1", Port: port}
	_, err = OpenListen(&Launch{Listen: []Socket{s}, Rootless: true})
	if err == nil || err.Error() != `step "listen": bind "http" tcp://127.0.0.1:x: address already in use` {
		t.Errorf("%v", err)
	}
}

func TestFromSystemdNeedsItsPid(t *testing.T) {
	t.Setenv("LISTEN_PID", "1")
	t.Setenv("LISTEN_FDS", "1")
	s := Socket{Name: "web", Network: spec.NetSystemd, Address: "systemd:web", Systemd: "web"}
	if _, err := s.open(nil); err == nil || !strings.Contains(err.Error(), `LISTEN_PID is "1", not daemonbox's pid`) {
		t.Errorf("%v", err)
	}
}

// A live datagram socket at the path is somebody's: it is refused, not
// replaced as stale (a stream connect to it answers EPROTOTYPE).
func TestOpenUnixLiveDatagram(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	live, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	var before, after unix.Stat_t
	unix.Stat(path, &before)
	s := Socket{Name: "log", Network: spec.NetUnix, Address: "unix://" + path, Path: path, Mode: 0o666, UID: -1, GID: -1}
	if _, err := s.open(nil); err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("a live datagram socket at the path: %v", err)
	}
	if unix.Stat(path, &after); after.Ino != before.Ino {
		t.Error("the live socket's file was replaced")
	}
}

// setFile acts on the socket file itself: a link swapped in at the name is
// refused, and its target keeps its mode.
func TestSetFileRefusesALink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	os.WriteFile(target, nil, 0o600)
	os.Symlink(target, filepath.Join(dir, "s.sock"))
	d, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(d)
	s := Socket{Name: "ctl", Address: "unix://" + dir + "/s.sock", Mode: 0o666, UID: -1, GID: -1}
	if err := s.setFile(d, "s.sock"); err == nil {
		t.Error("setFile followed or accepted a link")
	}
	if st, _ := os.Stat(target); st.Mode().Perm() != 0o600 {
		t.Errorf("the link's target is %v now", st.Mode().Perm())
	}
}

// A UDP socket has no SO_REUSEADDR, so no other socket can share its port.
func TestOpenUDPNoReuse(t *testing.T) {
	s := Socket{Name: "dns", Network: spec.NetUDP, Address: "udp://127.0.0.1:0", Host: "127.0.0.1", Port: 0}
	fd, err := s.open(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR); err != nil || v != 0 {
		t.Errorf("SO_REUSEADDR %d (%v) on a UDP socket", v, err)
	}
}

// check refuses a unix socket in a directory the daemon may write, as the
// launch would: at the key, before anything is opened.
func TestPlanListenGuardedDir(t *testing.T) {
	_, err := plan(t, rootHost(), "[user]\nuser = \"nobody\"\n[[fds.listen]]\nname = \"s\"\naddress = \"unix:///tmp/daemonbox-test.sock\"\n")
	if err == nil || !strings.Contains(err.Error(), "fds.listen[0].address: /tmp/daemonbox-test.sock: the directory /tmp is writable by the daemon") {
		t.Errorf("a socket in /tmp: %v", err)
	}
}
