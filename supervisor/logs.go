package supervisor

import (
	"fmt"
	"github.com/daemonbox/daemonbox/sandbox"
	"sync"
	"time"

	"github.com/daemonbox/daemonbox/hostpath"
	"golang.org/x/sys/unix"
)

// A supervised daemon never holds its log files. Its stdout or stderr is a
// pipe, and the supervisor appends what comes out of it to the file. That
// makes rotation safe: logrotate renames the file, `daemonbox reopen-logs`
// makes the supervisor open the path again, and a line written meanwhile
// lands in the renamed file, never nowhere. copytruncate cannot promise that:
// whatever the daemon writes between the copy and the truncation is lost.
type logCopy struct {
	path  string
	guard *hostpath.Guard // checked again at every reopen
	read  int             // the pipe's read end, the supervisor's
	write int             // the pipe's write end, each daemon's stdout or stderr
	done  chan struct{}

	mu   sync.Mutex
	file int // the log file, append-only
}

// newLogCopy takes over file (already opened at path by openStdio) and
// starts copying into it. The pipe belongs to the daemon's host uid and
// gid (owner: -1 leaves it daemonbox's): a daemon that opens /dev/stdout or
// /dev/stderr opens the pipe again through /proc/self/fd, which checks the
// pipe's owner and its mode 0600.
func newLogCopy(path string, file int, g *hostpath.Guard, owner [2]int) (*logCopy, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, sandbox.OpError("pipe", path, err)
	}
	if err := ownPipe(p[1], owner); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, sandbox.OpError("fchown", "the pipe to "+path, err)
	}
	c := &logCopy{path: path, guard: g, read: p[0], write: p[1], file: file, done: make(chan struct{})}
	go c.copy()
	return c, nil
}

// ownPipe gives the pipe its owner, unless it has it already: a daemonbox
// that is not root may give only what it has.
func ownPipe(fd int, owner [2]int) error {
	var st unix.Stat_t
	if owner == [2]int{-1, -1} || unix.Fstat(fd, &st) == nil && int(st.Uid) == owner[0] && int(st.Gid) == owner[1] {
		return nil
	}
	return unix.Fchown(fd, owner[0], owner[1])
}

func (c *logCopy) copy() {
	defer close(c.done)
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(c.read, buf)
		if err == unix.EINTR {
			continue
		}
		if n <= 0 {
			return
		}
		c.put(buf[:n])
	}
}

// put appends b whole; a failing disk cannot stop the daemon, so a write
// error drops what it could not write.
func (c *logCopy) put(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(b) > 0 {
		n, err := unix.Write(c.file, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return
		}
		b = b[n:]
	}
}

// reopen opens the path again (a rotation moved the old file away) and
// switches to it between two writes.
func (c *logCopy) reopen() error {
	fd, err := sandbox.OpenLog(c.path, c.guard)
	if err != nil {
		return err
	}
	c.mu.Lock()
	old := c.file
	c.file = fd
	c.mu.Unlock()
	unix.Close(old)
	return nil
}

// drainBound is how long a supervisor that is done waits for the daemon's
// leftover output: a process the daemon left behind may hold the pipe open.
const drainBound = 2 * time.Second

// close stops feeding the pipe and copies what is left in it.
func (c *logCopy) close() {
	unix.Close(c.write)
	select {
	case <-c.done:
	case <-time.After(drainBound):
	}
	c.mu.Lock()
	unix.Close(c.file)
	c.mu.Unlock()
}

// logs are the supervisor's copies for stdout and stderr (nil entries go
// straight to their destination).
type logs [3]*logCopy

// pipeLogs replaces each log file in stdio with a pipe into it.
func pipeLogs(p *sandbox.Plan, stdio *[3]int) (logs, error) {
	var l logs
	for i := 1; i <= 2; i++ {
		if p.Stdio[i].Kind != "file" {
			continue
		}
		c, err := newLogCopy(p.Stdio[i].Path, stdio[i], p.PathGuard(), p.StreamOwner())
		if err != nil {
			l.close()
			return l, sandbox.AtStep(sandbox.StreamNames[i], err)
		}
		l[i], stdio[i] = c, c.write
	}
	return l, nil
}

func (l logs) reopen() error {
	for _, c := range l {
		if c == nil {
			continue
		}
		if err := c.reopen(); err != nil {
			return err
		}
	}
	return nil
}

func (l logs) close() {
	for _, c := range l {
		if c != nil {
			c.close()
		}
	}
}

// printf writes one of the supervisor's own lines into the stderr log, if
// there is one; ok false means there is none.
func (l logs) printf(format string, args ...any) (ok bool) {
	if l[2] == nil {
		return false
	}
	l[2].put([]byte(fmt.Sprintf(format, args...)))
	return true
}
