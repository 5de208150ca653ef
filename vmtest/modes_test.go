package vmtest

import (
	"fmt"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"testing"
)

// rootlessUser is the unprivileged account that rootless tests run
// daemonbox as; testMain makes it when it is missing. It has no
// supplementary groups.
const rootlessUser = "daemonbox-rootless"

var (
	rootlessUID, rootlessGID uint32
	rootlessSkip             string // why rootless tests cannot run, if they cannot
)

func makeRootlessUser() string {
	if _, err := user.Lookup(rootlessUser); err != nil {
		out, err := exec.Command("useradd", "--system", "--user-group", "--no-create-home",
			"--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", rootlessUser).CombinedOutput()
		if err != nil {
			return fmt.Sprintf("rootless tests need the user %s, and useradd failed: %v %s", rootlessUser, err, out)
		}
	}
	u, err := user.Lookup(rootlessUser)
	if err != nil {
		return err.Error()
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	rootlessUID, rootlessGID = uint32(uid), uint32(gid)
	return ""
}

// mode is how a test runs daemonbox: as root, or rootless, as the
// unprivileged test user with namespaces.user = true added to the spec.
type mode struct{ rootless bool }

var modes = []mode{{false}, {true}}

func (m mode) String() string {
	if m.rootless {
		return "rootless"
	}
	return "root"
}

// launch runs spec in this mode.
func (m mode) launch(spec string) launch {
	if !m.rootless {
		return launch{spec: spec}
	}
	return launch{spec: withUserNS(spec), rootless: true}
}

// withUserNS turns namespaces.user on in spec.
func withUserNS(spec string) string {
	if strings.Contains(spec, "[namespaces]\n") {
		return strings.Replace(spec, "[namespaces]\n", "[namespaces]\nuser = true\n", 1)
	}
	return spec + "\n[namespaces]\nuser = true\n"
}

// eachMode runs f as a subtest in each mode.
func eachMode(t *testing.T, f func(t *testing.T, m mode)) {
	t.Helper()
	need(t)
	for _, m := range modes {
		t.Run(m.String(), func(t *testing.T) {
			if m.rootless {
				needRootless(t)
			}
			f(t, m)
		})
	}
}

func needRootless(t *testing.T) {
	t.Helper()
	need(t)
	if rootlessSkip == "" {
		return
	}
	if strict {
		t.Fatal(rootlessSkip)
	}
	t.Skip(rootlessSkip)
}
