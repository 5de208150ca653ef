package sandbox

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/daemonbox/daemonbox/spec"
	"github.com/landlock-lsm/go-landlock/landlock"
	ll "github.com/landlock-lsm/go-landlock/landlock/syscall"
	"golang.org/x/sys/unix"
)

// The landlock step: the file and TCP access the kernel allows the daemon,
// as [landlock] lists it, enforced on the thread that execs.

// LandlockFeature is one thing a [landlock] table asks of the kernel.
type LandlockFeature struct {
	Name     string // Landlock's name for it, as explain and errors print it
	ABI      int    // the Landlock ABI version that brings it
	Required bool   // mode = "required" refuses a kernel without it
	Without  string // what the daemon may do, or may not, on a kernel without it
}

// LandlockFeatures lists what l asks of the kernel, in ABI order. A
// required feature is one without which a rule is not kept as written;
// ioctl_dev only narrows device files further, so it is enforced where the
// kernel has it and reported where not.
func LandlockFeatures(l *spec.Landlock) []LandlockFeature {
	f := []LandlockFeature{{"filesystem", 1, true, "no file access is restricted"}}
	if len(l.Write) > 0 {
		f = append(f, LandlockFeature{"refer", 2, true, "rename and link between directories fail everywhere, even within write"})
	}
	f = append(f, LandlockFeature{"truncate", 3, true, "truncate is allowed outside write"})
	if l.RestrictBind {
		f = append(f, LandlockFeature{"bind_tcp", 4, true, "bind is allowed on any TCP port"})
	}
	if l.RestrictConnect {
		f = append(f, LandlockFeature{"connect_tcp", 4, true, "connect is allowed to any TCP port"})
	}
	return append(f, LandlockFeature{"ioctl_dev", 5, false, "ioctl on device files is allowed outside write"})
}

// LandlockMissing says what mode = "required" needs and a kernel with
// Landlock ABI abi lacks; "" if nothing.
func LandlockMissing(l *spec.Landlock, abi int) string {
	var missing []string
	for _, f := range LandlockFeatures(l) {
		if f.Required && abi < f.ABI {
			missing = append(missing, fmt.Sprintf("%s needs ABI %d", f.Name, f.ABI))
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("this kernel has Landlock ABI %d, and %s (mode = \"best-effort\" would run without them)",
		abi, strings.Join(missing, ", "))
}

// LandlockABI is the running kernel's Landlock ABI version, 0 without
// Landlock.
func LandlockABI() int {
	v, err := ll.LandlockGetABIVersion()
	if err != nil {
		return 0
	}
	return v
}

// landlockABI is the probe the step uses; a test replaces it.
var landlockABI = LandlockABI

// The rights each key grants. execute includes read, since exec opens the
// file for reading and the loader maps it. write is every file right the
// step handles, refer (rename and link in and out) among them, but execute:
// a daemon that may write a file there must not run what it wrote.
const (
	handledRights = landlock.AccessFSSet(1<<16 - 1) // ABI 1 to 5: execute to ioctl_dev
	readRights    = ll.AccessFSReadFile | ll.AccessFSReadDir
	executeRights = readRights | ll.AccessFSExecute
	writeRights   = handledRights &^ ll.AccessFSExecute
	fileRights    = ll.AccessFSExecute | ll.AccessFSWriteFile | ll.AccessFSReadFile | ll.AccessFSTruncate | ll.AccessFSIoctlDev
	tcpRights     = ll.AccessNetBindTCP | ll.AccessNetConnectTCP
)

// versions are go-landlock's configurations, indexed by ABI version: each
// handles all that version knows.
var versions = []landlock.Config{{}, landlock.V1, landlock.V2, landlock.V3, landlock.V4, landlock.V5,
	landlock.V6, landlock.V7, landlock.V8, landlock.V9, landlock.V10, landlock.V11}

// landlockConfig is what the ruleset handles on a kernel with ABI abi: every
// file right up to ABI 5 it has, and TCP bind and connect when their keys
// are given. resolve_unix (ABI 9) is left out: no key grants it, and
// handling it would refuse every pathname socket outside write.
func landlockConfig(l *spec.Landlock, abi int) landlock.Config {
	kernel := versions[min(max(abi, 0), len(versions)-1)]
	var net landlock.AccessNetSet
	if l.RestrictBind {
		net |= ll.AccessNetBindTCP
	}
	if l.RestrictConnect {
		net |= ll.AccessNetConnectTCP
	}
	c := landlock.Config{
		HandledAccessFS:  kernel.HandledAccessFS & handledRights,
		HandledAccessNet: kernel.HandledAccessNet & net & tcpRights,
	}
	if l.Mode == spec.LandlockBestEffort {
		c = c.BestEffort() // a no-op on the real kernel: c is already within it
	}
	return c
}

// landlock restricts this thread, the one that execs, to Launch.Landlock:
// execve gives the daemon this thread's Landlock domain. Only this thread:
// daemonbox's other threads end at exec, and go-landlock's Restrict would
// stop the world and signal each of them (AllThreadsSyscall) on a thread
// whose signal state the signals step has just set for the daemon.
func (l *launch) landlock() error {
	rules := l.plan.Landlock
	if rules == nil {
		return nil
	}
	abi := landlockABI()
	if rules.Mode == spec.LandlockRequired {
		if msg := LandlockMissing(rules, abi); msg != "" {
			return &StepError{Msg: "mode \"required\": " + msg}
		}
	}
	c := landlockConfig(rules, abi)
	list, err := landlockRules(rules, c)
	if err != nil {
		return err
	}
	fd, flags, err := c.NewRulesetFD(list...)
	if err != nil {
		se := &StepError{Msg: "create ruleset: " + err.Error()}
		errors.As(err, &se.Errno)
		return se
	}
	if fd < 0 {
		return nil // best-effort on a kernel without Landlock
	}
	defer unix.Close(fd)
	if err := ll.LandlockRestrictSelf(fd, flags); err != nil {
		return OpError("landlock_restrict_self", "", err)
	}
	return nil
}

// landlockRules turns the table's keys into go-landlock's rules, each path
// opened inside the final root.
func landlockRules(l *spec.Landlock, c landlock.Config) ([]landlock.Rule, error) {
	var out []landlock.Rule
	for _, k := range []struct {
		key    string
		paths  []string
		rights landlock.AccessFSSet
	}{{"read", l.Read, readRights}, {"write", l.Write, writeRights}, {"execute", l.Execute, executeRights}} {
		for _, p := range k.paths {
			r, err := pathRule("landlock."+k.key, p, k.rights&c.HandledAccessFS, l.Mode)
			if err != nil {
				return nil, err
			}
			if r != nil {
				out = append(out, r)
			}
		}
	}
	if c.HandledAccessNet&ll.AccessNetBindTCP != 0 {
		for _, port := range l.BindTCP {
			out = append(out, landlock.BindTCP(port))
		}
	}
	if c.HandledAccessNet&ll.AccessNetConnectTCP != 0 {
		for _, port := range l.ConnectTCP {
			out = append(out, landlock.ConnectTCP(port))
		}
	}
	return out, nil
}

// pathRule grants rights beneath path; a file that is not a directory gets
// only the rights that apply to files, as the kernel requires. A path that
// does not exist fails a required launch, naming it: the rules would not
// be those written, and a typo would surface only as the daemon's EACCES.
// Best-effort skips it and says so on the daemon's stderr.
func pathRule(key, path string, rights landlock.AccessFSSet, mode spec.LandlockMode) (landlock.Rule, error) {
	var st unix.Stat_t
	err := unix.Stat(path, &st)
	switch {
	case err == nil:
	case mode == spec.LandlockBestEffort && (errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR)):
		fmt.Fprintf(os.Stderr, "daemonbox: step \"landlock\": %s %s: %v (skipped: mode is best-effort)\n", key, path, err)
		return nil, nil
	default:
		return nil, OpError(key, path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		rights &= fileRights
	}
	if rights == 0 {
		return nil, nil // nothing the kernel handles: the rule would be refused as empty
	}
	return landlock.PathAccess(rights, path), nil
}
