package sandbox

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var (
	// ErrNoPasswdEntries is wrapped by the error for a USER name that the
	// image's /etc/passwd does not list.
	ErrNoPasswdEntries = errors.New("no matching entries in passwd file")
	// ErrNoGroupEntries is wrapped by the error for a group name that the
	// image's /etc/group does not list.
	ErrNoGroupEntries = errors.New("no matching entries in group file")
)

// maxUserFileSize bounds how much of /etc/passwd or /etc/group is read, as
// BuildKit does: these files come from the image and may be hostile.
const maxUserFileSize = 10 << 20

// passwdEntry is the part of an /etc/passwd line that USER needs.
type passwdEntry struct {
	name     string
	uid, gid uint32
}

// groupEntry is the part of an /etc/group line that USER needs.
type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// resolveUser turns the value of a USER instruction into the ids the process
// runs with, the way Docker and BuildKit do (moby/sys/user.GetExecUser):
//
//   - "" is root; problems with the image's files are ignored then.
//   - "uid:gid" with both parts numeric is taken as is, without reading any
//     file and without supplementary groups.
//   - A name must be listed in /etc/passwd, else the error is Docker's
//     "unable to find user NAME: no matching entries in passwd file".
//   - A numeric uid takes its gid from /etc/passwd if listed there, else gid 0.
//   - An explicit group (name or gid) replaces the gid; a group name must be
//     listed in /etc/group.
//   - Without an explicit group, a user listed in /etc/passwd gets the
//     groups of /etc/group that name it as a member as supplementary groups.
//
// The primary gid is always the first of the additional gids, as BuildKit
// sets them. /etc/passwd and /etc/group are opened inside rootfs: symlinks
// are resolved as if rootfs were "/" and can never lead outside it.
func resolveUser(rootfs, spec string) (specs.User, error) {
	if spec == "" {
		u, err := lookupUser(rootfs, "0")
		if err != nil {
			return withPrimaryGID(specs.User{}), nil
		}
		return u, nil
	}
	if uid, gid, ok := parseUIDGID(spec); ok {
		return withPrimaryGID(specs.User{UID: uid, GID: gid}), nil
	}
	return lookupUser(rootfs, spec)
}

// parseUIDGID parses spec if it is "uid:gid" with both parts numeric ("root"
// counts as 0, as in BuildKit's fast path).
func parseUIDGID(spec string) (uid, gid uint32, ok bool) {
	u, g, found := strings.Cut(spec, ":")
	if !found {
		return 0, 0, false
	}
	uid, err := parseID(u)
	if err != nil && u != "root" {
		return 0, 0, false
	}
	gid, err = parseID(g)
	if err != nil && g != "root" {
		return 0, 0, false
	}
	return uid, gid, true
}

// parseID parses a numeric uid or gid.
func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, err
	}
	return uint32(n), nil
}

// lookupUser resolves spec ("user" or "user:group") against the image's
// /etc/passwd and /etc/group.
func lookupUser(rootfs, spec string) (specs.User, error) {
	userArg, groupArg, _ := strings.Cut(spec, ":")
	uidArg, uidErr := parseID(userArg)

	passwd, err := readPasswd(rootfs)
	if err != nil {
		return specs.User{}, err
	}
	var u specs.User
	matched := ""
	i := slices.IndexFunc(passwd, func(e passwdEntry) bool {
		if uidErr != nil {
			return e.name == userArg
		}
		return e.uid == uidArg
	})
	switch {
	case i >= 0:
		u.UID, u.GID = passwd[i].uid, passwd[i].gid
		matched = passwd[i].name
	case uidErr != nil:
		return specs.User{}, fmt.Errorf("unable to find user %s: %w", userArg, ErrNoPasswdEntries)
	default:
		u.UID = uidArg
	}

	if groupArg == "" && matched == "" {
		return withPrimaryGID(u), nil
	}
	groups, err := readGroup(rootfs)
	if err != nil {
		return specs.User{}, err
	}
	if groupArg == "" {
		// Implicit group: the groups that list the user become supplementary.
		for _, g := range groups {
			if slices.Contains(g.members, matched) && !slices.Contains(u.AdditionalGids, g.gid) {
				u.AdditionalGids = append(u.AdditionalGids, g.gid)
			}
		}
		return withPrimaryGID(u), nil
	}
	gidArg, gidErr := parseID(groupArg)
	j := slices.IndexFunc(groups, func(g groupEntry) bool {
		if gidErr != nil {
			return g.name == groupArg
		}
		return g.gid == gidArg
	})
	switch {
	case j >= 0:
		u.GID = groups[j].gid
	case gidErr != nil:
		return specs.User{}, fmt.Errorf("unable to find group %s: %w", groupArg, ErrNoGroupEntries)
	default:
		u.GID = gidArg
	}
	return withPrimaryGID(u), nil
}

// withPrimaryGID puts u's gid first among its additional gids, as BuildKit
// does, so that the process's group list always contains it.
func withPrimaryGID(u specs.User) specs.User {
	if !slices.Contains(u.AdditionalGids, u.GID) {
		u.AdditionalGids = append([]uint32{u.GID}, u.AdditionalGids...)
	}
	return u
}

// readPasswd reads the entries of rootfs's /etc/passwd; a missing file has
// none.
func readPasswd(rootfs string) ([]passwdEntry, error) {
	var entries []passwdEntry
	err := readUserFile(rootfs, "/etc/passwd", func(f []string) {
		// name:password:uid:gid:gecos:home:shell
		if len(f) < 4 {
			return
		}
		uid, err := parseID(f[2])
		if err != nil {
			return
		}
		gid, err := parseID(f[3])
		if err != nil {
			return
		}
		entries = append(entries, passwdEntry{name: f[0], uid: uid, gid: gid})
	})
	return entries, err
}

// readGroup reads the entries of rootfs's /etc/group; a missing file has
// none.
func readGroup(rootfs string) ([]groupEntry, error) {
	var entries []groupEntry
	err := readUserFile(rootfs, "/etc/group", func(f []string) {
		// name:password:gid:member,member
		if len(f) < 3 {
			return
		}
		gid, err := parseID(f[2])
		if err != nil {
			return
		}
		e := groupEntry{name: f[0], gid: gid}
		if len(f) > 3 && f[3] != "" {
			for _, m := range strings.Split(f[3], ",") {
				if m = strings.TrimSpace(m); m != "" {
					e.members = append(e.members, m)
				}
			}
		}
		entries = append(entries, e)
	})
	return entries, err
}

// readUserFile calls line with the colon-separated fields of each non-empty,
// non-comment line of the file at name inside rootfs. A missing file is not
// an error; a file that is not a regular file or is larger than
// maxUserFileSize is.
func readUserFile(rootfs, name string, line func(fields []string)) error {
	f, err := openInRoot(rootfs, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	defer f.Close()

	b, err := io.ReadAll(io.LimitReader(f, maxUserFileSize+1))
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if len(b) > maxUserFileSize {
		return fmt.Errorf("reading %s: larger than %d bytes", name, maxUserFileSize)
	}
	for text := range strings.Lines(string(b)) {
		text = strings.TrimSpace(text)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		line(strings.Split(text, ":"))
	}
	return nil
}

// openInRoot opens the regular file at name inside rootfs for reading,
// resolving symlinks as if rootfs were "/" (openat2 RESOLVE_IN_ROOT where the
// kernel has it), so that no path in the image can lead outside rootfs.
func openInRoot(rootfs, name string) (*os.File, error) {
	h, err := pathrs.OpenInRoot(rootfs, name)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	fi, err := h.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	return pathrs.Reopen(h, unix.O_RDONLY|unix.O_CLOEXEC)
}

// ResolveOwner resolves the owner given to COPY --chown, ADD --chown or a
// WORKDIR created under USER ("user[:group]", names or ids) the way
// BuildKit's file operations do, which differs from USER for a process: a
// user name takes its uid and primary gid from /etc/passwd, a numeric uid
// alone is used as the gid too, and an explicit group (name or gid)
// replaces the gid. Unlike BuildKit, which silently uses 0 for a name it
// cannot find, an unknown user or group name is an error.
func ResolveOwner(rootfs, spec string) (uid, gid uint32, err error) {
	userArg, groupArg, hasGroup := strings.Cut(spec, ":")
	if n, err := parseID(userArg); err == nil {
		uid, gid = n, n
	} else {
		passwd, err := readPasswd(rootfs)
		if err != nil {
			return 0, 0, err
		}
		i := slices.IndexFunc(passwd, func(e passwdEntry) bool { return e.name == userArg })
		if i < 0 {
			return 0, 0, fmt.Errorf("unable to find user %s: %w", userArg, ErrNoPasswdEntries)
		}
		uid, gid = passwd[i].uid, passwd[i].gid
	}
	if !hasGroup {
		return uid, gid, nil
	}
	if n, err := parseID(groupArg); err == nil {
		return uid, n, nil
	}
	groups, err := readGroup(rootfs)
	if err != nil {
		return 0, 0, err
	}
	j := slices.IndexFunc(groups, func(g groupEntry) bool { return g.name == groupArg })
	if j < 0 {
		return 0, 0, fmt.Errorf("unable to find group %s: %w", groupArg, ErrNoGroupEntries)
	}
	return uid, groups[j].gid, nil
}
