package scaffold

import (
	"sort"
	"strconv"
	"strings"
)

func (t *translation) restart(name, value string) {
	switch value {
	case "no", "on-failure", "always":
		t.set("daemon", "restart", toml(value))
	case "on-abnormal", "on-abort", "on-watchdog":
		t.set("daemon", "restart", toml("on-failure"))
		t.note("%s=%s: daemonbox's nearest is on-failure, which also restarts on a non-zero exit", name, value)
	default:
		t.note("%s=%s: no equivalent (daemonbox has no, on-failure, always)", name, value)
	}
}

// serviceType: simple and exec are daemonbox's ready = "exec"; notify is
// "notify". A forking daemon must be told to stay in the foreground.
func (t *translation) serviceType(name, value string) {
	switch value {
	case "simple", "exec":
	case "notify", "notify-reload":
		t.notify = true
		t.set("daemon", "ready", toml("notify"))
	default:
		t.note("%s=%s: daemonbox runs the daemon in the foreground; give it its no-fork flag (-f, --foreground, -g 'daemon off;')", name, value)
	}
}

// stream: null, a file to append to, or what daemonbox was given (the
// journal, when a unit starts daemonbox).
func (t *translation) stream(name, value string) {
	key := map[string]string{"StandardInput": "stdin", "StandardOutput": "stdout", "StandardError": "stderr"}[name]
	switch {
	case value == "null":
		t.set("fds", key, toml("null"))
	case strings.HasPrefix(value, "append:"):
		t.set("fds", key, toml(strings.TrimPrefix(value, "append:")))
	case value == "journal" || value == "inherit" || value == "tty" || value == "journal+console":
		t.set("fds", key, toml("inherit"))
	default:
		t.note("%s=%s: no equivalent (daemonbox takes null, inherit or a file appended to)", name, value)
	}
}

// execReload: "kill -s SIG $MAINPID" (or -SIG, -HUP) is signals.reload;
// any other command is not.
func (t *translation) execReload(name, value string) {
	argv, _ := splitCommand(strings.TrimLeft(value, "-@:+!"))
	if len(argv) >= 3 && strings.HasSuffix(argv[0], "kill") && argv[len(argv)-1] == "$MAINPID" {
		sig := argv[len(argv)-2]
		if len(argv) == 3 {
			sig = strings.TrimPrefix(argv[1], "-")
		}
		if !strings.HasPrefix(sig, "SIG") {
			sig = "SIG" + sig
		}
		t.set("signals", "reload", toml(sig))
		return
	}
	t.note("%s=%s: daemonbox reloads with a signal (signals.reload), not a command", name, value)
}

func (t *translation) ignoreSIGPIPE(name, value string) {
	if b, ok := yes(value); ok {
		t.ignorePipe = b
	}
}

// limit: LimitNOFILE=SOFT:HARD or one value for both, in the kernel's units
// (which the spec's bare numbers are too), or infinity.
func (t *translation) limit(name, value string) {
	key := strings.ToLower(strings.TrimPrefix(name, "Limit"))
	if key == "nice" || key == "rtprio" {
		t.note("%s=%s: translate it by hand (systemd reads nice values, daemonbox the kernel's 0 to 40)", name, value)
		return
	}
	soft, hard, both := strings.Cut(value, ":")
	sv, ok1 := limitValue(soft)
	hv, ok2 := limitValue(hard)
	switch {
	case !ok1 || both && !ok2:
		t.note("%s=%s: not a number daemonbox can read", name, value)
	case !both || sv == hv:
		t.set("rlimits", key, sv)
	default:
		t.set("rlimits", key, "{ soft = "+sv+", hard = "+hv+" }")
	}
}

func limitValue(s string) (string, bool) {
	if s == "infinity" {
		return toml("unlimited"), true
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return s, err == nil
}

func (t *translation) finishEnv() {
	if t.envs == nil {
		return
	}
	keys := make([]string, 0, len(t.envs))
	for k := range t.envs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = toml(k) + " = " + toml(t.envs[k])
	}
	t.set("process", "env", "{ "+strings.Join(pairs, ", ")+" }")
}

// finishStartTimeout: TimeoutStartSec= bounds READY=1 only for Type=notify;
// daemonbox's ready = "exec" has no wait to bound.
func (t *translation) finishStartTimeout() {
	if t.startTimeout == "" {
		return
	}
	if d, ok := timeSpan(t.startTimeout); ok && t.notify {
		t.set("daemon", "ready_timeout", toml(d.String()))
	}
}
