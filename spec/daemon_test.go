package spec

import (
	"testing"
	"time"
)

func TestDaemonSettleAndWatchdog(t *testing.T) {
	s := mustParse(t, "[process]\ncommand = [\"/bin/true\"]\n[daemon]\nstart_settle = \"2s\"\nwatchdog = \"30s\"\n")
	if s.Daemon.StartSettle != 2*time.Second || s.Daemon.Watchdog != 30*time.Second {
		t.Errorf("%+v", s.Daemon)
	}
	if d := mustParse(t, "[process]\ncommand = [\"/bin/true\"]\n").Daemon; d.StartSettle != 0 || d.Watchdog != 0 {
		t.Errorf("defaults: %+v", d)
	}
	_, err := Parse("t.toml", []byte("[process]\ncommand = [\"/bin/true\"]\n[daemon]\nready = \"notify\"\nstart_settle = \"2s\"\n"))
	if want := `t.toml:5:16: daemon.start_settle: only with ready = "exec": with "notify", start waits for READY=1`; err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
