package vm

import (
	"fmt"
	"io"
	"os"
	"path"
	"sort"
)

// Write writes the image as a newc cpio archive, each directory before
// what it holds; a directory that nothing added is made with mode 0755.
func (im *Image) Write(w io.Writer) error {
	for p := range im.items {
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if _, ok := im.items[d]; !ok {
				im.items[d] = &item{mode: modeDir | 0o755}
			}
		}
	}
	names := make([]string, 0, len(im.items))
	for p := range im.items {
		names = append(names, p)
	}
	sort.Strings(names)
	c := &cpioWriter{w: w}
	for _, p := range names {
		if err := im.writeItem(c, p, im.items[p]); err != nil {
			return err
		}
	}
	return c.close()
}

func (im *Image) writeItem(c *cpioWriter, p string, it *item) error {
	h := header{name: p[1:], mode: it.mode, rmaj: it.rmaj, rmin: it.rmin}
	switch {
	case it.mode&0o170000 == modeSymlink:
		h.size = int64(len(it.target))
		c.entry(h)
		c.write([]byte(it.target))
	case it.host != "":
		return im.writeHost(c, h, it.host)
	default:
		h.size = int64(len(it.data))
		c.entry(h)
		c.write(it.data)
	}
	c.end(h.size)
	return c.err
}

// writeHost streams a host file, which must not change size meanwhile.
func (im *Image) writeHost(c *cpioWriter, h header, from string) error {
	f, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("pack %s: %w", from, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("pack %s: %w", from, err)
	}
	h.size = fi.Size()
	c.entry(h)
	if c.err != nil {
		return c.err
	}
	n, err := io.Copy(c.w, f)
	if err == nil && n != h.size {
		err = fmt.Errorf("size changed from %d to %d while packing", h.size, n)
	}
	if err != nil {
		return fmt.Errorf("pack %s: %w", from, err)
	}
	c.end(h.size)
	return c.err
}
