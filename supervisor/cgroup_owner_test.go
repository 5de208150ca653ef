package supervisor

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/daemonbox/daemonbox/sandbox"
)

func recordPlan(t *testing.T) *sandbox.Plan {
	p := &sandbox.Plan{}
	p.Rootless = true // no guard: the temporary directory is the test's own
	p.Name, p.PidfileDir = "web", filepath.Join(t.TempDir(), "run")
	p.Cgroup.Path, p.Cgroup.Spec = "daemonbox/web", "/srv/d1/web.toml"
	return p
}

func TestRecordRoundTrip(t *testing.T) {
	p := recordPlan(t)
	if rec, err := readRecord(p); rec != nil || err != nil {
		t.Fatalf("before any write: %v %v, want none", rec, err)
	}
	if err := writeRecord(p, 42); err != nil {
		t.Fatal(err)
	}
	rec, err := readRecord(p)
	if err != nil || *rec != (owner{spec: "/srv/d1/web.toml", cgroup: "daemonbox/web", id: 42}) {
		t.Fatalf("read %+v %v", rec, err)
	}
	other := *p
	other.Cgroup.Path = "elsewhere/web"
	if err := dropRecord(&other); err != nil || !exists(recordPath(p)) {
		t.Fatalf("a record of another cgroup was dropped: %v", err)
	}
	if err := dropRecord(p); err != nil || exists(recordPath(p)) {
		t.Fatalf("the record of this cgroup is left: %v", err)
	}
}

func TestRecordRefusesOddFiles(t *testing.T) {
	p := recordPlan(t)
	p.Cgroup.Spec = "/a\nb"
	if err := writeRecord(p, 42); err == nil {
		t.Error("a spec path with a newline was recorded")
	}
	os.MkdirAll(p.PidfileDir, 0o755)
	os.WriteFile(recordPath(p), []byte("/srv/d1/web.toml\ndaemonbox/web\n"), 0o644)
	if _, err := readRecord(p); err == nil {
		t.Error("a record without the inode was read")
	}
	os.Remove(recordPath(p))
	os.Symlink("/etc/passwd", recordPath(p))
	if _, err := readRecord(p); err == nil {
		t.Error("a symlink was followed")
	}
}

func exists(path string) bool { _, err := os.Lstat(path); return err == nil }
