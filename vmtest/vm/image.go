package vm

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Image is the guest's root file system as it will be packed: each guest
// path (absolute) with what it holds. Every file is root-owned.
type Image struct {
	items map[string]*item
	done  map[string]bool // host files packed with their libraries
}

type item struct {
	mode       uint32 // type and permission bits
	host       string // a regular file's content, read at write time
	data       []byte // or its content in memory
	target     string // a symlink's
	rmaj, rmin uint32 // a device node's number
}

// NewImage is an empty image.
func NewImage() *Image {
	return &Image{items: map[string]*item{}, done: map[string]bool{}}
}

// canon is p with every leading directory that the image holds as a
// symlink replaced by its target, so that nothing is packed below a symlink.
func (im *Image) canon(p string) string {
	p = path.Clean("/" + p)
	parts := strings.Split(p[1:], "/")
	cur := "/"
	for i, part := range parts {
		next := path.Join(cur, part)
		if it, ok := im.items[next]; ok && it.mode&0o170000 == modeSymlink && i < len(parts)-1 {
			t := it.target
			if !path.IsAbs(t) {
				t = path.Join(cur, t)
			}
			return im.canon(path.Join(append([]string{t}, parts[i+1:]...)...))
		}
		cur = next
	}
	return p
}

func (im *Image) put(p string, it *item) { im.items[im.canon(p)] = it }

// Has reports whether the image holds p.
func (im *Image) Has(p string) bool { _, ok := im.items[im.canon(p)]; return ok }

// Dir adds a directory.
func (im *Image) Dir(p string, perm uint32) { im.put(p, &item{mode: modeDir | perm}) }

// Bytes adds a file holding data.
func (im *Image) Bytes(p string, data []byte, perm uint32) {
	im.put(p, &item{mode: modeFile | perm, data: data})
}

// Symlink adds a symbolic link to target.
func (im *Image) Symlink(p, target string) {
	im.put(p, &item{mode: modeSymlink | 0o777, target: target})
}

// CharDev adds a character device node.
func (im *Image) CharDev(p string, perm, major, minor uint32) {
	im.put(p, &item{mode: modeChar | perm, rmaj: major, rmin: minor})
}

// Copy adds the host file from at guest path p, with its mode's
// permission bits, and the shared libraries it needs if it is an ELF file.
func (im *Image) Copy(p, from string) error {
	fi, err := os.Stat(from)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("pack %s: not a regular file", from)
	}
	im.put(p, &item{mode: modeFile | uint32(fi.Mode().Perm()), host: from})
	return im.libraries(from, true)
}

// HostFile packs the host file p at the same path in the guest, each
// symlink on the way as a symlink, and the shared libraries it needs.
func (im *Image) HostFile(p string) error { return im.hostFile(p, true) }

func (im *Image) hostFile(p string, strict bool) error {
	dir, err := filepath.EvalSymlinks(filepath.Dir(p))
	if err != nil {
		return fmt.Errorf("pack %s: %w", p, err)
	}
	p = filepath.Join(dir, filepath.Base(p))
	if im.done[p] {
		return nil
	}
	im.done[p] = true
	fi, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("pack %s: %w", p, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(p)
		if err != nil {
			return fmt.Errorf("pack %s: %w", p, err)
		}
		im.Symlink(p, target)
		if !filepath.IsAbs(target) {
			target = filepath.Join(dir, target)
		}
		if _, err := os.Stat(target); err != nil && !strict {
			return nil // a tree's dangling link: packed as it is
		}
		return im.hostFile(target, strict)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("pack %s: not a regular file or symlink", p)
	}
	im.put(p, &item{mode: modeFile | uint32(fi.Mode().Perm()), host: p})
	return im.libraries(p, strict)
}

// HostTree packs the host directory dir and everything below it at the
// same paths, but the entries skip names (relative to dir). Libraries
// that an ELF file below needs are packed when the host has them: a
// tree's plugins may be for libraries this host lacks.
func (im *Image) HostTree(dir string, skip func(rel string) bool) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("pack %s: %w", dir, err)
	}
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("pack %s: %w", p, err)
		}
		rel, _ := filepath.Rel(root, p)
		if rel != "." && skip != nil && skip(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			im.Dir(p, 0o755)
			return nil
		}
		return im.hostFile(p, false)
	})
}

// HostTreeAt packs the host directory from at the guest directory to:
// its directories, regular files (with their libraries) and symlinks.
func (im *Image) HostTreeAt(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("pack %s: %w", p, err)
		}
		rel, _ := filepath.Rel(from, p)
		dest := path.Join(to, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			im.Dir(dest, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return fmt.Errorf("pack %s: %w", p, err)
			}
			im.Symlink(dest, target)
		default:
			return im.Copy(dest, p)
		}
		return nil
	})
}
