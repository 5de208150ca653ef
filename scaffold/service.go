package scaffold

import (
	"fmt"
	"strconv"
	"strings"
)

// A setting is a handler for one [Service] key.
type setting func(t *translation, name, value string)

// settings maps the [Service] keys daemonbox has an equivalent for. It is
// made on use: a package-level map is built by an initializer on every
// launch of daemonbox, run included.
func settings() map[string]setting {
	return map[string]setting{
		"ExecStart":               (*translation).execStart,
		"User":                    str("user", "user"),
		"Group":                   str("user", "group"),
		"SupplementaryGroups":     words("user", "groups"),
		"WorkingDirectory":        (*translation).workingDirectory,
		"RootDirectory":           str("filesystem", "root"),
		"UMask":                   (*translation).umask,
		"Environment":             (*translation).environment,
		"PassEnvironment":         words("process", "inherit_env"),
		"NoNewPrivileges":         boolean("process", "no_new_privileges"),
		"OOMScoreAdjust":          number("process", "oom_score_adj"),
		"CapabilityBoundingSet":   (*translation).capabilities,
		"AmbientCapabilities":     (*translation).capabilities,
		"PrivateNetwork":          boolean("namespaces", "network"),
		"PrivateIPC":              boolean("namespaces", "ipc"),
		"PrivatePIDs":             boolean("namespaces", "pid"),
		"ProtectHostname":         boolean("namespaces", "uts"),
		"PrivateUsers":            boolean("namespaces", "user"),
		"PrivateMounts":           boolean("namespaces", "mount"),
		"PrivateTmp":              (*translation).privateTmp,
		"PrivateDevices":          boolean("filesystem", "dev"),
		"ReadOnlyPaths":           (*translation).paths,
		"InaccessiblePaths":       (*translation).paths,
		"TemporaryFileSystem":     (*translation).temporaryFileSystem,
		"BindPaths":               (*translation).bindPaths,
		"BindReadOnlyPaths":       (*translation).bindPaths,
		"ReadWritePaths":          (*translation).readWritePaths,
		"SystemCallFilter":        (*translation).systemCallFilter,
		"SystemCallErrorNumber":   (*translation).systemCallErrorNumber,
		"RestrictAddressFamilies": (*translation).addressFamilies,
		"MemoryDenyWriteExecute":  boolean("seccomp", "memory_deny_write_execute"),
		"MemoryMax":               (*translation).size,
		"MemorySwapMax":           (*translation).size,
		"TasksMax":                number("resources", "pids_max"),
		"CPUQuota":                str("resources", "cpu_max"),
		"CPUWeight":               number("resources", "cpu_weight"),
		"IOWeight":                number("resources", "io_weight"),
		"KillSignal":              str("signals", "stop"),
		"TimeoutStopSec":          (*translation).timeout,
		"TimeoutStartSec":         (*translation).timeout,
		"Restart":                 (*translation).restart,
		"Type":                    (*translation).serviceType,
		"PIDFile":                 str("daemon", "pidfile"),
		"StandardInput":           (*translation).stream,
		"StandardOutput":          (*translation).stream,
		"StandardError":           (*translation).stream,
		"ExecReload":              (*translation).execReload,
		"IgnoreSIGPIPE":           (*translation).ignoreSIGPIPE,
	}
}

// sameAsDefault are settings whose value daemonbox always applies: written
// by daemonbox's own systemd export, they translate to nothing.
func sameAsDefault(name, value string) bool {
	switch name + "=" + value {
	case "SystemCallArchitectures=native", "RestrictNamespaces=yes", "LockPersonality=yes", "MountAPIVFS=no":
		return true
	}
	return false
}

func (t *translation) entry(name, value string) {
	if sameAsDefault(name, value) {
		return
	}
	if strings.HasPrefix(name, "Limit") {
		t.limit(name, value)
		return
	}
	if fn, ok := t.settings[name]; ok {
		fn(t, name, value)
		return
	}
	t.note("%s=%s: no equivalent in daemonbox", name, value)
}

func str(table, key string) setting {
	return func(t *translation, name, value string) {
		if value == "" {
			return
		}
		t.set(table, key, toml(value))
	}
}

func words(table, key string) setting {
	return func(t *translation, name, value string) { t.add(table, key, strings.Fields(value)) }
}

func boolean(table, key string) setting {
	return func(t *translation, name, value string) { t.boolKey(name, value, table, key) }
}

func number(table, key string) setting {
	return func(t *translation, name, value string) {
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			t.note("%s=%s: not a plain number", name, value)
			return
		}
		t.set(table, key, value)
	}
}

// execStart takes the first command line; more than one is Type=oneshot's
// list of commands, which daemonbox, running one daemon, has not.
func (t *translation) execStart(name, value string) {
	if t.execStarts++; t.execStarts > 1 {
		t.note("%s=%s: daemonbox runs one command; only the first ExecStart= is the command", name, value)
		return
	}
	for len(value) > 0 && strings.ContainsRune("-@:+!", rune(value[0])) {
		t.note("%s: the prefix %q has no equivalent (daemonbox runs the command as the spec says)", name, value[:1])
		value = value[1:]
	}
	argv, problem := splitCommand(value)
	if problem != "" {
		t.note("%s=%s: %s", name, value, problem)
	}
	t.command = argv
}

func (t *translation) workingDirectory(name, value string) {
	value = strings.TrimPrefix(value, "-")
	if value == "~" || !strings.HasPrefix(value, "/") {
		t.note("%s=%s: daemonbox's cwd is an absolute path", name, value)
		return
	}
	t.set("process", "cwd", toml(value))
}

func (t *translation) umask(name, value string) {
	n, err := strconv.ParseUint(value, 8, 32)
	if err != nil || n > 0o777 {
		t.note("%s=%s: not an octal umask", name, value)
		return
	}
	t.set("process", "umask", fmt.Sprintf("0o%03o", n))
}

// environment adds KEY=VALUE words (quoted as systemd quotes them). A spec's
// env is the whole environment, where systemd's adds to its PATH default,
// so PATH is filled in with that default unless the unit sets it.
func (t *translation) environment(name, value string) {
	assignments, problem := splitCommand(value)
	if problem != "" {
		t.note("%s=%s: %s", name, value, problem)
	}
	if t.envs == nil {
		t.envs = map[string]string{"PATH": defaultPath}
	}
	for _, a := range assignments {
		k, v, ok := strings.Cut(a, "=")
		if !ok {
			t.note("%s: %q is not KEY=VALUE", name, a)
			continue
		}
		t.envs[k] = v
	}
}

// defaultPath is systemd's PATH for services, which is also daemonbox's.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
