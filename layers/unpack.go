package layers

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// ErrUnsafePath is wrapped by the error Unpack returns for an entry whose
// name or hard link target climbs above the layer directory with "..".
var ErrUnsafePath = errors.New("path escapes the layer directory")

// ErrInvalidWhiteout is wrapped by the error Unpack returns for a whiteout
// entry that names no file (".wh.", ".wh.." or ".wh...") or that has
// entries below it ("a/.wh.b/c").
var ErrInvalidWhiteout = errors.New("whiteout names no file")

// Unpack reads r, an uncompressed OCI layer tar, and writes its entries
// into dir (created with mode 0755 if missing) as a layer directory: a
// ".wh.<name>" entry becomes a 0/0 character device <name>, and
// ".wh..wh..opq" sets trusted.overlay.opaque=y on its directory. Other
// ".wh..wh." names (aufs metadata) are skipped, with anything below them.
//
// Entries restore their mode (with setuid, setgid and sticky bits), numeric
// owner (when running as root), xattrs, and access and modification times;
// directories get their times after everything in them is written. A later
// entry replaces an earlier one at the same path, except that a directory
// over a directory merges. Parent directories missing from the tar are
// created with mode 0755, owned by root. Regular files are written sparse:
// runs of zeros become holes.
//
// Nothing is ever written outside dir. Names are resolved as if dir were
// the root directory, the way the container will see them: a leading "/"
// is dropped, and symlinks met in parent directories are followed but
// cannot leave dir (a symlink to "/" leads back to dir; one to a path
// missing inside dir is an error). The last component of a name is never
// followed: an entry replaces a symlink rather than writing through it, and
// a hard link to a symlink links the symlink. A name or hard link target
// that climbs above the root with ".." is an error wrapping ErrUnsafePath.
// xattrs of overlayfs (trusted.overlay.*, user.overlay.*) in the tar are
// ignored: only ".wh." names make whiteouts.
//
// Unpack reads r to its end, past the end of the archive, so that a
// verifying reader wrapping it sees all of its input. On error, dir holds
// the entries written so far.
func Unpack(r io.Reader, dir string) error {
	return unpack(r, dir, haveOpenat2())
}

// unpack is Unpack, with the name resolution chosen by the caller: openat2
// with RESOLVE_IN_ROOT, or SecureJoin on kernels without it (before 5.6).
func unpack(r io.Reader, dir string, openat2 bool) error {
	if err := makeLayerRoot(dir); err != nil {
		return fmt.Errorf("unpacking into %s: %w", dir, err)
	}
	root, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("unpacking into %s: %w", dir, &os.PathError{Op: "open", Path: dir, Err: err})
	}
	defer unix.Close(root)
	u := &unpacker{
		root:     root,
		rootPath: dir,
		openat2:  openat2,
		chown:    os.Geteuid() == 0,
		dirTimes: make(map[string][]unix.Timespec),
		buf:      make([]byte, 128<<10),
	}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("unpacking into %s: reading tar: %w", dir, err)
		}
		if err := u.entry(hdr, tr); err != nil {
			return fmt.Errorf("unpacking into %s: entry %q: %w", dir, hdr.Name, err)
		}
	}
	if err := u.setDirTimes(); err != nil {
		return fmt.Errorf("unpacking into %s: %w", dir, err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return fmt.Errorf("unpacking into %s: reading past the tar: %w", dir, err)
	}
	return nil
}

// makeLayerRoot creates dir, if missing, with mode 0755 whatever the
// umask: overlayfs shows the root of the topmost layer as "/", and a
// container whose "/" is 0700 is unusable for every user but root.
func makeLayerRoot(dir string) error {
	if _, err := os.Lstat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.Chmod(dir, 0o755)
}

// haveOpenat2 reports whether the kernel has openat2 (Linux 5.6).
var haveOpenat2 = sync.OnceValue(func() bool {
	fd, err := unix.Openat2(unix.AT_FDCWD, "/", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC})
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
})

// unpacker holds the state of one Unpack. All file descriptors it hands
// out are owned by the caller.
type unpacker struct {
	root     int    // O_PATH descriptor of the layer directory
	rootPath string // its path, for SecureJoin and error messages
	openat2  bool   // resolve with openat2 rather than SecureJoin
	chown    bool   // restore owners (running as root)
	// dirTimes holds the times of each directory entry, by clean path,
	// to be set once nothing more is written below it.
	dirTimes map[string][]unix.Timespec
	buf      []byte
}

// cleanPath returns the name of a tar entry as a path relative to the layer
// root, slash-separated, with "", "." and ".." components resolved
// lexically and a leading "/" dropped; "" is the root itself. It reports
// false for a name whose ".." climbs above the root.
func cleanPath(name string) (string, bool) {
	var parts []string
	for part := range strings.SplitSeq(name, "/") {
		switch part {
		case "", ".":
		case "..":
			if len(parts) == 0 {
				return "", false
			}
			parts = parts[:len(parts)-1]
		default:
			parts = append(parts, part)
		}
	}
	return strings.Join(parts, "/"), true
}

// splitPath splits a clean path into its directory ("" for the root) and
// its last component.
func splitPath(rel string) (dir, base string) {
	i := strings.LastIndexByte(rel, '/')
	if i < 0 {
		return "", rel
	}
	return rel[:i], rel[i+1:]
}

// maxResolveRetries bounds the retries of openat2, which fails with EAGAIN
// when a rename elsewhere on the system races with an in-root lookup.
const maxResolveRetries = 128

// openDir returns an O_PATH descriptor of the directory at the clean path
// rel, following symlinks as if the layer directory were "/".
func (u *unpacker) openDir(rel string) (int, error) {
	if rel == "" {
		rel = "."
	}
	if u.openat2 {
		how := &unix.OpenHow{
			Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
		}
		for range maxResolveRetries {
			fd, err := unix.Openat2(u.root, rel, how)
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return fd, err
		}
		return -1, unix.EAGAIN
	}
	// SecureJoin resolves every symlink within the root and returns a path
	// free of them; O_NOFOLLOW keeps the final open from following one
	// that appeared since.
	path, err := securejoin.SecureJoin(u.rootPath, rel)
	if err != nil {
		return -1, err
	}
	return unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
}

// mkdirAll is openDir, creating missing directories with mode 0755 and
// owner root.
func (u *unpacker) mkdirAll(rel string) (int, error) {
	fd, err := u.openDir(rel)
	if !errors.Is(err, unix.ENOENT) || rel == "" {
		return fd, err
	}
	// Walk down from the root. Each missing component is made inside the
	// directory that its parent path resolved to, which is where the next
	// lookup of the longer path will find it.
	parent, err := u.openDir("")
	if err != nil {
		return -1, err
	}
	parts := strings.Split(rel, "/")
	for i, part := range parts {
		prefix := strings.Join(parts[:i+1], "/")
		next, err := u.openDir(prefix)
		if errors.Is(err, unix.ENOENT) {
			err = u.mkdirDefault(parent, part)
			if err == nil || errors.Is(err, unix.EEXIST) {
				next, err = u.openDir(prefix)
			}
		}
		unix.Close(parent)
		if err != nil {
			return -1, fmt.Errorf("creating directory %q: %w", prefix, err)
		}
		parent = next
	}
	return parent, nil
}

// mkdirDefault creates the directory name in dirfd with mode 0755 (whatever
// the umask) and owner root.
func (u *unpacker) mkdirDefault(dirfd int, name string) error {
	if err := unix.Mkdirat(dirfd, name, 0o700); err != nil {
		return err
	}
	if u.chown {
		if err := unix.Fchownat(dirfd, name, 0, 0, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	}
	return unix.Fchmodat(dirfd, name, 0o755, 0)
}

// entry writes one tar entry, reading a regular file's content from r.
func (u *unpacker) entry(hdr *tar.Header, r io.Reader) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		return nil
	}
	rel, ok := cleanPath(hdr.Name)
	if !ok {
		return ErrUnsafePath
	}
	dirRel, base := splitPath(rel)
	for part := range strings.SplitSeq(dirRel, "/") {
		if strings.HasPrefix(part, whiteoutMetaPrefix) {
			return nil // inside aufs metadata such as .wh..wh.plnk/
		}
		if strings.HasPrefix(part, whiteoutPrefix) {
			return fmt.Errorf("%w: %q is a directory", ErrInvalidWhiteout, part)
		}
	}
	if strings.HasPrefix(base, whiteoutPrefix) {
		return u.whiteout(dirRel, base, hdr)
	}
	if rel == "" {
		if hdr.Typeflag != tar.TypeDir {
			return errors.New("only a directory can stand for the layer root")
		}
		return u.rootDir(hdr)
	}

	parent, err := u.mkdirAll(dirRel)
	if err != nil {
		return err
	}
	defer unix.Close(parent)

	switch hdr.Typeflag {
	case tar.TypeDir:
		return u.dir(parent, base, rel, hdr)
	case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse:
		return u.file(parent, base, hdr, r)
	case tar.TypeSymlink:
		return u.symlink(parent, base, hdr)
	case tar.TypeLink:
		return u.link(parent, base, rel, hdr)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		return u.node(parent, base, hdr)
	}
	return fmt.Errorf("unsupported entry type %q", hdr.Typeflag)
}

// whiteout handles an entry named ".wh.<name>" in the directory dirRel.
func (u *unpacker) whiteout(dirRel, base string, hdr *tar.Header) error {
	if base == whiteoutOpaque {
		dir, err := u.mkdirAll(dirRel)
		if err != nil {
			return err
		}
		defer unix.Close(dir)
		fd, err := unix.Openat(dir, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := unix.Fsetxattr(fd, opaqueXattr, []byte("y"), 0); err != nil {
			return fmt.Errorf("marking %q opaque: %w", dirRel, err)
		}
		return nil
	}
	if strings.HasPrefix(base, whiteoutMetaPrefix) {
		return nil
	}
	name := strings.TrimPrefix(base, whiteoutPrefix)
	if name == "" || name == "." || name == ".." {
		return ErrInvalidWhiteout
	}
	parent, err := u.mkdirAll(dirRel)
	if err != nil {
		return err
	}
	defer unix.Close(parent)
	if err := RemoveAt(parent, name); err != nil {
		return err
	}
	if err := unix.Mknodat(parent, name, unix.S_IFCHR, 0); err != nil {
		return fmt.Errorf("creating whiteout device: %w", err)
	}
	return unix.UtimesNanoAt(parent, name, EntryTimes(hdr), unix.AT_SYMLINK_NOFOLLOW)
}

// rootDir applies a directory entry naming the layer root ("./").
func (u *unpacker) rootDir(hdr *tar.Header) error {
	fd, err := unix.Openat(u.root, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := u.setAttrs(fd, hdr); err != nil {
		return err
	}
	u.dirTimes[""] = EntryTimes(hdr)
	return nil
}

// dir creates or updates the directory base in parent.
func (u *unpacker) dir(parent int, base, rel string, hdr *tar.Header) error {
	var st unix.Stat_t
	err := unix.Fstatat(parent, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		if err := RemoveAt(parent, base); err != nil {
			return err
		}
		err = unix.ENOENT
	}
	if errors.Is(err, unix.ENOENT) {
		err = unix.Mkdirat(parent, base, 0o700)
	}
	if err != nil {
		return err
	}
	fd, err := unix.Openat(parent, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := u.setAttrs(fd, hdr); err != nil {
		return err
	}
	u.dirTimes[rel] = EntryTimes(hdr)
	return nil
}

// file writes the regular file base in parent from r.
func (u *unpacker) file(parent int, base string, hdr *tar.Header, r io.Reader) error {
	if err := RemoveAt(parent, base); err != nil {
		return err
	}
	fd, err := unix.Openat(parent, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), base)
	if err := CopySparse(f, r, u.buf); err != nil {
		f.Close()
		return err
	}
	if err := u.setAttrs(fd, hdr); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return unix.UtimesNanoAt(parent, base, EntryTimes(hdr), unix.AT_SYMLINK_NOFOLLOW)
}

// symlink creates the symlink base in parent.
func (u *unpacker) symlink(parent int, base string, hdr *tar.Header) error {
	if err := RemoveAt(parent, base); err != nil {
		return err
	}
	if err := unix.Symlinkat(hdr.Linkname, parent, base); err != nil {
		return err
	}
	return u.setAttrsAt(parent, base, hdr, false)
}

// node creates the device or fifo base in parent.
func (u *unpacker) node(parent int, base string, hdr *tar.Header) error {
	mode := uint32(hdr.Mode & 0o7777)
	switch hdr.Typeflag {
	case tar.TypeChar:
		mode |= unix.S_IFCHR
	case tar.TypeBlock:
		mode |= unix.S_IFBLK
	default:
		mode |= unix.S_IFIFO
	}
	if err := RemoveAt(parent, base); err != nil {
		return err
	}
	dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
	if err := unix.Mknodat(parent, base, mode, int(dev)); err != nil {
		return err
	}
	return u.setAttrsAt(parent, base, hdr, true)
}

// link creates base in parent, at the clean path rel, as a hard link to
// the entry's Linkname.
func (u *unpacker) link(parent int, base, rel string, hdr *tar.Header) error {
	target, ok := cleanPath(hdr.Linkname)
	if !ok {
		return fmt.Errorf("link target %q: %w", hdr.Linkname, ErrUnsafePath)
	}
	if target == "" || target == rel {
		return fmt.Errorf("link target %q: not a file", hdr.Linkname)
	}
	targetDir, targetBase := splitPath(target)
	dir, err := u.openDir(targetDir)
	if err != nil {
		return fmt.Errorf("link target %q: %w", hdr.Linkname, err)
	}
	defer unix.Close(dir)
	if err := RemoveAt(parent, base); err != nil {
		return err
	}
	// Without AT_SYMLINK_FOLLOW, a symlink target is linked itself,
	// never what it points to.
	if err := unix.Linkat(dir, targetBase, parent, base, 0); err != nil {
		return fmt.Errorf("link target %q: %w", hdr.Linkname, err)
	}
	return nil
}

// setAttrs applies owner, mode and xattrs to the open file or directory fd.
// The order matters: chown clears setuid bits and file capabilities.
func (u *unpacker) setAttrs(fd int, hdr *tar.Header) error {
	if u.chown {
		if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
			return fmt.Errorf("chown: %w", err)
		}
	}
	if err := unix.Fchmod(fd, uint32(hdr.Mode&0o7777)); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	for name, value := range entryXattrs(hdr) {
		if err := unix.Fsetxattr(fd, name, []byte(value), 0); err != nil {
			return fmt.Errorf("setting xattr %s: %w", name, err)
		}
	}
	return nil
}

// setAttrsAt applies owner, mode (when chmod is set), xattrs and times to
// base in parent, which cannot be opened: a symlink, device or fifo.
func (u *unpacker) setAttrsAt(parent int, base string, hdr *tar.Header, chmod bool) error {
	if u.chown {
		if err := unix.Fchownat(parent, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("chown: %w", err)
		}
	}
	if chmod {
		// base was just made by mknod and is no symlink, so following
		// it (fchmodat has no working AT_SYMLINK_NOFOLLOW) is safe.
		if err := unix.Fchmodat(parent, base, uint32(hdr.Mode&0o7777), 0); err != nil {
			return fmt.Errorf("chmod: %w", err)
		}
	}
	// No *at call sets xattrs before Linux 6.13: name the file through
	// the parent's descriptor in /proc; lsetxattr does not follow base.
	path := "/proc/self/fd/" + strconv.Itoa(parent) + "/" + base
	for name, value := range entryXattrs(hdr) {
		if err := unix.Lsetxattr(path, name, []byte(value), 0); err != nil {
			return fmt.Errorf("setting xattr %s: %w", name, err)
		}
	}
	return unix.UtimesNanoAt(parent, base, EntryTimes(hdr), unix.AT_SYMLINK_NOFOLLOW)
}

// entryXattrs yields the xattrs an entry carries in SCHILY.xattr PAX
// records, in name order, leaving out overlayfs's own.
func entryXattrs(hdr *tar.Header) iter.Seq2[string, string] {
	return func(yield func(name, value string) bool) {
		var names []string
		for key := range hdr.PAXRecords {
			name, ok := strings.CutPrefix(key, paxXattrPrefix)
			if ok && name != "" && !isOverlayXattr(name) {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		for _, name := range names {
			if !yield(name, hdr.PAXRecords[paxXattrPrefix+name]) {
				return
			}
		}
	}
}

// entryTimes returns the access and modification times of an entry; an
// entry without an access time gets its modification time.
// setDirTimes sets the times of the directories the tar named, now that
// nothing more is written in them. A directory replaced by a later entry is
// skipped.
func (u *unpacker) setDirTimes() error {
	for rel, ts := range u.dirTimes {
		if rel == "" {
			if err := unix.UtimesNanoAt(u.root, ".", ts, 0); err != nil {
				return fmt.Errorf("setting times of the root: %w", err)
			}
			continue
		}
		dirRel, base := splitPath(rel)
		parent, err := u.openDir(dirRel)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			continue
		}
		if err != nil {
			return fmt.Errorf("setting times of %q: %w", rel, err)
		}
		var st unix.Stat_t
		err = unix.Fstatat(parent, base, &st, unix.AT_SYMLINK_NOFOLLOW)
		switch {
		case errors.Is(err, unix.ENOENT):
			err = nil
		case err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR:
			err = unix.UtimesNanoAt(parent, base, ts, unix.AT_SYMLINK_NOFOLLOW)
		}
		unix.Close(parent)
		if err != nil {
			return fmt.Errorf("setting times of %q: %w", rel, err)
		}
	}
	return nil
}
