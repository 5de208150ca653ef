package vm

import (
	"fmt"
	"os"
	"strings"
)

// baseUsers are the accounts the tests need, added when the host's
// /etc/passwd lacks them: nobody, and the unprivileged user of the
// rootless tests (vmtest/modes_test.go), which the guest cannot useradd.
var baseUsers = []struct{ name, passwd, group string }{
	{"root", "root:x:0:0:root:/root:/bin/sh", "root:x:0:"},
	{"nobody", "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin", "nogroup:x:65534:"},
	{"www-data", "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin", "www-data:x:33:"},
	{"daemonbox-rootless", "daemonbox-rootless:x:64000:64000::/nonexistent:/usr/sbin/nologin", "daemonbox-rootless:x:64000:"},
}

// etc writes the guest's /etc: the host's users and groups (a daemon
// from the host, redis or nginx, runs as its own), with baseUsers added,
// files-only name lookups, and localhost.
func (g Guest) etc(im *Image) error {
	passwd, err := readOr("/etc/passwd")
	if err != nil {
		return err
	}
	group, err := readOr("/etc/group")
	if err != nil {
		return err
	}
	for _, u := range baseUsers {
		if !hasEntry(passwd, u.name) {
			passwd += u.passwd + "\n"
		}
		if gname, _, _ := strings.Cut(u.group, ":"); !hasEntry(group, gname) {
			group += u.group + "\n"
		}
	}
	im.Bytes("/etc/passwd", []byte(passwd), 0o644)
	im.Bytes("/etc/group", []byte(group), 0o644)
	im.Bytes("/etc/nsswitch.conf", []byte("passwd: files\ngroup: files\nshadow: files\nhosts: files\n"), 0o644)
	im.Bytes("/etc/hosts", []byte("127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n"), 0o644)
	im.Bytes("/etc/hostname", []byte("vmtest\n"), 0o644)
	// The loader's cache and the time zone: the examples' Landlock rules
	// name them.
	for _, f := range []string{"/etc/ld.so.cache", "/etc/localtime"} {
		if _, err := os.Stat(f); err == nil {
			if err := im.HostFile(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// readOr is a host file's text, "" if it is missing.
func readOr(path string) (string, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	s := string(b)
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s, nil
}

// hasEntry reports whether a passwd or group text has a line for name.
func hasEntry(text, name string) bool {
	for _, line := range strings.Split(text, "\n") {
		if n, _, _ := strings.Cut(line, ":"); n == name {
			return true
		}
	}
	return false
}
