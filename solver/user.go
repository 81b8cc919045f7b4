package solver

import (
	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/stratabuild/strata/solver/sandbox"
)

// lookupUser resolves a COPY --chown or WORKDIR owner inside rootfs.
func lookupUser(rootfs, spec string) (uid, gid int, err error) {
	u, g, err := sandbox.ResolveOwner(rootfs, spec)
	return int(u), int(g), err
}

// securePath resolves p inside root as if root were "/": symlinks in the
// image can never lead outside it.
func securePath(root, p string) (string, error) {
	return securejoin.SecureJoin(root, p)
}
