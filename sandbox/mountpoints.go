package sandbox

import (
	"slices"

	"golang.org/x/sys/unix"
)

// MakeMountPoints creates the missing mount points of the plan's own
// mounts in the root's files, each resolved inside the root, as a launch
// does before anything is made read-only. The OCI export calls it: a
// runtime cannot make a mount point once the root is read-only.
func MakeMountPoints(p *Launch) error {
	if p.Unshare&unix.CLONE_NEWNS == 0 {
		return nil
	}
	return makeMountPoints(p)
}

// makeMountPoints makes the targets of p's mounts that are missing, each
// resolved inside the root.
func makeMountPoints(p *Launch) error {
	root, err := unix.Open(p.Root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return OpError("open", p.Root, err)
	}
	defer unix.Close(root)
	return (&mountSet{root: root, orig: -1, pidns: -1}).makeTargets(p.Mounts)
}

// ProcHardening is what a fresh /proc gets made read-only and masked, for
// an export that must mount one where the launch mounts none.
func ProcHardening() (readonly, masked []string) {
	return slices.Clone(procReadonly), slices.Clone(procMasked)
}
