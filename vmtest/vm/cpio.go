package vm

import (
	"fmt"
	"io"
)

// cpioWriter writes the "newc" cpio format, the one the kernel unpacks as
// an initramfs. It is written here rather than run as cpio(1) so that a
// user without root can give the guest root-owned files and device nodes.
type cpioWriter struct {
	w   io.Writer
	ino uint32
	err error
}

// header is one entry's fields, as the kernel reads them.
type header struct {
	name       string
	mode       uint32 // type and permission bits, as in stat(2)
	uid, gid   uint32
	size       int64
	rmaj, rmin uint32 // a device node's number
}

const (
	modeDir     = 0o040000
	modeFile    = 0o100000
	modeSymlink = 0o120000
	modeChar    = 0o020000
)

func (c *cpioWriter) printf(format string, args ...any) {
	if c.err == nil {
		_, c.err = fmt.Fprintf(c.w, format, args...)
	}
}

func (c *cpioWriter) write(b []byte) {
	if c.err == nil {
		_, c.err = c.w.Write(b)
	}
}

// pad writes the zeros that align the next field to 4 bytes after n bytes.
func (c *cpioWriter) pad(n int64) {
	if r := n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}

// entry writes h's header and name; the caller writes h.size bytes of
// data, then calls end.
func (c *cpioWriter) entry(h header) {
	c.ino++
	nlink := 1
	if h.mode&0o170000 == modeDir {
		nlink = 2
	}
	c.printf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		c.ino, h.mode, h.uid, h.gid, nlink, 0, h.size, 0, 0, h.rmaj, h.rmin, len(h.name)+1, 0)
	c.printf("%s\x00", h.name)
	c.pad(110 + int64(len(h.name)) + 1)
}

// end pads the data of an entry of size bytes.
func (c *cpioWriter) end(size int64) { c.pad(size) }

// close writes the trailer that ends the archive.
func (c *cpioWriter) close() error {
	c.entry(header{name: "TRAILER!!!"})
	return c.err
}
