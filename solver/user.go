package solver

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
)

// lookupUser resolves a COPY --chown or WORKDIR owner ("user[:group]",
// names or ids) against the image's /etc/passwd and /etc/group. As the
// Dockerfile reference says for --chown, a user without a group gets the
// same number as its gid.
func lookupUser(rootfs, spec string) (uid, gid int, err error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	uid, err = lookupID(rootfs, "/etc/passwd", userPart, 2)
	if err != nil {
		return 0, 0, fmt.Errorf("unable to find user %s: %w", userPart, err)
	}
	if !hasGroup {
		return uid, uid, nil
	}
	gid, err = lookupID(rootfs, "/etc/group", groupPart, 2)
	if err != nil {
		return 0, 0, fmt.Errorf("unable to find group %s: %w", groupPart, err)
	}
	return uid, gid, nil
}

// lookupID finds name (or takes it as a number) in a colon-separated
// database file inside rootfs, returning field idField of its line.
func lookupID(rootfs, file, name string, idField int) (int, error) {
	if n, err := strconv.Atoi(name); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("invalid id %d", n)
		}
		return n, nil
	}
	if name == "" {
		return 0, fmt.Errorf("empty name")
	}
	f, err := openInRoot(rootfs, file)
	if err != nil {
		return 0, fmt.Errorf("no matching entries in %s file", strings.TrimPrefix(file, "/etc/"))
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 10<<20))
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) > idField && fields[0] == name {
			return strconv.Atoi(fields[idField])
		}
	}
	return 0, fmt.Errorf("no matching entries in %s file", strings.TrimPrefix(file, "/etc/"))
}

// securePath resolves p inside root as if root were "/": symlinks in the
// image can never lead outside it.
func securePath(root, p string) (string, error) {
	return securejoin.SecureJoin(root, p)
}
