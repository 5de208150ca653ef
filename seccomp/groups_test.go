package seccomp

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/elastic/go-seccomp-bpf/arch"
)

// systemdGroups reads `systemd-analyze syscall-filter`: each group's direct
// members, nested group names included.
func systemdGroups(t *testing.T) map[string][]string {
	out, err := exec.Command("systemd-analyze", "syscall-filter").Output()
	if err != nil {
		t.Skipf("systemd-analyze syscall-filter: %v (the comparison needs systemd's own table)", err)
	}
	got := map[string][]string{}
	cur := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line, text := sc.Text(), strings.TrimSpace(sc.Text())
		switch {
		case text == "":
			cur = ""
		case strings.HasPrefix(line, "@"):
			cur = text
			got[cur] = nil
		case cur != "" && !strings.HasPrefix(text, "#"):
			got[cur] = append(got[cur], text)
		}
	}
	return got
}

// TestGroupsFollowSystemd: every call and nested group systemd puts in a
// group is in daemonbox's group of that name.
func TestGroupsFollowSystemd(t *testing.T) {
	sd := systemdGroups(t)
	if len(sd) == 0 {
		t.Fatal("systemd-analyze listed no groups")
	}
	for name, members := range sd {
		ours, ok := lookupGroup(name)
		if !ok {
			t.Errorf("%s: systemd's group is missing here (run go generate ./seccomp)", name)
			continue
		}
		for _, m := range members {
			if !slices.Contains(ours, m) {
				t.Errorf("%s: systemd has %s, daemonbox's group does not (run go generate ./seccomp)", name, m)
			}
		}
		for _, m := range ours {
			if !slices.Contains(members, m) {
				t.Logf("%s: daemonbox's group has %s, this host's systemd does not (an older systemd)", name, m)
			}
		}
	}
}

// TestGroupNamesTheFilterCannotUse lists the calls of systemd's groups that
// the running architecture's table lacks, with the reason. A call that the
// kernel headers name for this architecture would be a real gap: it fails.
func TestGroupNamesTheFilterCannotUse(t *testing.T) {
	kernel := headerSyscalls(t)
	var other, none []string
	for _, n := range Expand("@known") {
		if _, ok := native.SyscallNames[n]; ok {
			continue
		}
		switch where := otherArches(n); {
		case kernel[n]:
			t.Errorf("%s: a %s system call in the kernel headers that go-seccomp-bpf's table lacks", n, native.Name)
		case where != "":
			other = append(other, n+" ("+where+")")
		default:
			none = append(none, n)
		}
	}
	t.Logf("not %s calls, only other architectures' (%d): %s", native.Name, len(other), strings.Join(other, ", "))
	t.Logf("in no table of go-seccomp-bpf, calls of architectures it has no table for (%d): %s", len(none), strings.Join(none, ", "))
}

func otherArches(name string) string {
	var in []string
	for _, a := range []*arch.Info{arch.I386, arch.X32, arch.ARM, arch.AARCH64} {
		if _, ok := a.SyscallNames[name]; ok && a != native {
			in = append(in, a.Name)
		}
	}
	return strings.Join(in, " ")
}

// headerSyscalls reads the x86_64 kernel headers' __NR_ names, when present.
func headerSyscalls(t *testing.T) map[string]bool {
	set := map[string]bool{}
	if native != arch.X86_64 {
		return set
	}
	b, err := os.ReadFile("/usr/include/x86_64-linux-gnu/asm/unistd_64.h")
	if err != nil {
		t.Logf("no kernel headers to compare the table with: %v", err)
		return set
	}
	for _, m := range regexp.MustCompile(`#define __NR_(\w+) `).FindAllSubmatch(b, -1) {
		set[string(m[1])] = true
	}
	return set
}

func TestExpandNested(t *testing.T) {
	got := Expand("@system-service")
	for _, want := range []string{"read", "write", "clone", "socket", "personality", "io_uring_setup", "keyctl"} {
		if !slices.Contains(got, want) {
			t.Errorf("@system-service lacks %s", want)
		}
	}
	for _, absent := range []string{"mount", "ptrace", "bpf", "kexec_load", "init_module", "perf_event_open", "@basic-io"} {
		if slices.Contains(got, absent) {
			t.Errorf("@system-service has %s", absent)
		}
	}
}

// The lookups search the generated tables: they must be sorted.
func TestTablesSorted(t *testing.T) {
	if !slices.IsSortedFunc(groups[:], func(a, b group) int { return strings.Compare(a.name, b.name) }) {
		t.Error("groups are not sorted by name")
	}
	if !slices.IsSortedFunc(syscallsByName[:], func(a, b numbered) int { return strings.Compare(a.name, b.name) }) {
		t.Error("syscallsByName is not sorted")
	}
}

// The generated numbers of each group are what its names give on this
// architecture, nested groups expanded.
func TestGroupNumbers(t *testing.T) {
	if !hasTable() {
		t.Skip("no table for this architecture")
	}
	if len(groupNumbers) != len(groups) {
		t.Fatalf("%d groups numbered, %d groups: run go generate ./seccomp", len(groupNumbers), len(groups))
	}
	for i, g := range groups {
		var want []uint16
		for _, call := range Expand(g.name) {
			if nr, ok := syscallNumber(call); ok {
				want = append(want, uint16(nr))
			}
		}
		slices.Sort(want)
		if !slices.Equal(groupNumbers[i], want) {
			t.Errorf("%s: generated %v, names give %v", g.name, groupNumbers[i], want)
		}
	}
}
