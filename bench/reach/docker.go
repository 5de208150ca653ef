package main

import (
	"encoding/json"
	"os"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// dockerSpec is what `docker run --user 65534:65534 --cap-drop ALL` hands
// runc, less what does not bear on system calls (the cgroup mount, AppArmor,
// which this host does not run): Docker's default namespaces, mounts, masked
// and read-only paths, no capabilities, and no_new_privs off, as Docker
// leaves it unless --security-opt no-new-privileges is given.
func dockerSpec(args []string) *specs.Spec {
	none := []string{}
	return &specs.Spec{
		Version:  specs.Version,
		Hostname: "reach",
		Root:     &specs.Root{Path: "rootfs"},
		Process: &specs.Process{
			Args: args,
			Env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cwd:  "/",
			User: specs.User{UID: 65534, GID: 65534},
			Capabilities: &specs.LinuxCapabilities{
				Bounding: none, Effective: none, Permitted: none, Inheritable: none, Ambient: none,
			},
			NoNewPrivileges: false,
		},
		Mounts: dockerMounts(),
		Linux: &specs.Linux{
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
				{Type: specs.MountNamespace}, {Type: specs.NetworkNamespace},
			},
			MaskedPaths: []string{"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
				"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
				"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
}

// dockerMounts are Docker's default mounts but /sys/fs/cgroup.
func dockerMounts() []specs.Mount {
	return []specs.Mount{
		{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
		{Destination: "/dev/pts", Type: "devpts", Source: "devpts",
			Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
		{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
		{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
	}
}

// writeDockerConfig writes config for a bundle whose rootfs is rootfs (a
// directory named rootfs beside config), running args.
func writeDockerConfig(rootfs, config string, args []string) error {
	spec := dockerSpec(args)
	spec.Root.Path = rootfs
	// The profile is resolved against the spec, as dockerd does: calls that
	// Docker allows only with a capability drop out, since none is kept.
	profile, err := seccomp.GetDefaultProfile(spec)
	if err != nil {
		return err
	}
	spec.Linux.Seccomp = profile
	b, err := json.MarshalIndent(spec, "", "\t")
	if err != nil {
		return err
	}
	return os.WriteFile(config, append(b, '\n'), 0o644)
}
