package sandbox

import (
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// nextSize reads a packet's length without taking it, however large, and
// recvFrom then takes the whole message in a buffer of that size.
func TestNextSize(t *testing.T) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pair[0])
	big := make([]byte, 300<<10)
	if err := unix.SetsockoptInt(pair[1], unix.SOL_SOCKET, unix.SO_SNDBUF, 1<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Write(pair[1], big); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // a peek leaves it there
		if n, err := nextSize(pair[0]); n != len(big) || err != nil {
			t.Fatalf("nextSize = %d, %v; want %d", n, err, len(big))
		}
	}
	if n, err := unix.Read(pair[0], make([]byte, len(big)+1)); n != len(big) || err != nil {
		t.Fatalf("read = %d, %v; want %d", n, err, len(big))
	}
	if err := send(pair[1], message{kind: kindStarted, pid: 42}); err != nil {
		t.Fatal(err)
	}
	unix.Close(pair[1])
	m, _, err := recvFrom(pair[0])
	if err != nil || m.kind != kindStarted || m.pid != 42 {
		t.Fatalf("recvFrom = %+v, %v; want started 42", m, err)
	}
	if _, _, err := recvFrom(pair[0]); err != ErrClosed {
		t.Fatalf("recvFrom after close = %v; want ErrClosed", err)
	}
}

// A stage that says nothing is not waited for beyond the bound: awaitReady
// returns errNoAnswer, for Spawn to kill it.
func TestAwaitReadyBound(t *testing.T) {
	if _, err := awaitReady(silentStage(t), func(int) {}, 20*time.Millisecond); err != errNoAnswer {
		t.Fatalf("awaitReady from a silent stage: %v, want errNoAnswer", err)
	}
}

// Signals to the waiting thread do not put the bound off: a stage stopped
// and continued again and again sends its parent SIGCHLD each time.
func TestAwaitReadyBoundSignals(t *testing.T) {
	sock := silentStage(t)
	tid, done := make(chan int), make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- unix.Gettid()
		_, err := awaitReady(sock, func(int) {}, 200*time.Millisecond)
		done <- err
	}()
	id := <-tid
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	limit := time.After(10 * time.Second)
	for {
		select {
		case err := <-done:
			if err != errNoAnswer {
				t.Fatalf("awaitReady: %v, want errNoAnswer", err)
			}
			return
		case <-tick.C:
			unix.Tgkill(unix.Getpid(), id, unix.SIGCHLD)
		case <-limit:
			t.Fatal("awaitReady with a 200ms bound still waits after 10s of SIGCHLDs")
		}
	}
}

// silentStage is the supervisor's end of a stage's socket whose other end
// stays open and says nothing, as a stopped stage's does.
func silentStage(t *testing.T) int {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(pair[0]); unix.Close(pair[1]) })
	return pair[0]
}
