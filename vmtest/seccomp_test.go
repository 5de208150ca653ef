package vmtest

// mechanismsOnly lets through the calls the confinement tests try (mount,
// chroot, ptrace, sethostname), which the default filter refuses anyway, so
// that those tests keep checking what refuses them without the filter:
// capabilities, namespaces, read-only mounts. The filter's own refusals are
// this file's.
const mechanismsOnly = "[seccomp]\nallow = [\"@system-service\", \"@mount\", \"chroot\", \"ptrace\", \"sethostname\"]\n"
