package main

import (
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
)

// reapOrphans reaps, as any init does, the processes the tests leave to
// pid 1: a daemon whose supervisor a test killed is one. Until such a
// zombie is reaped, the PID 1 of the namespace it was in cannot finish
// exiting (the kernel's zap_pid_ns_processes waits for every member), so
// a test that waits for the namespace to end would wait in vain. The test
// binary itself (keep) is left to its exec.Cmd. It runs until stop closes.
func reapOrphans(keep int, stop <-chan struct{}) {
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, syscall.SIGCHLD)
	defer signal.Stop(sigchld)
	for {
		for _, pid := range orphanZombies(keep) {
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		}
		select {
		case <-sigchld:
		case <-stop:
			return
		}
	}
}

// orphanZombies lists this process's children that have exited, but for
// keep, from /proc: wait4(-1) could take keep's status from exec.Cmd.
func orphanZombies(keep int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == keep {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		if state, ppid, ok := parseStat(string(b)); ok && state == "Z" && ppid == self {
			pids = append(pids, pid)
		}
	}
	return pids
}

// parseStat reads the state and parent pid from a /proc/PID/stat line;
// the command name in parentheses may hold spaces and parentheses itself.
func parseStat(line string) (state string, ppid int, ok bool) {
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return "", 0, false
	}
	f := strings.Fields(line[i+1:])
	if len(f) < 2 {
		return "", 0, false
	}
	ppid, err := strconv.Atoi(f[1])
	return f[0], ppid, err == nil
}
