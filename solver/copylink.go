package solver

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"

	securejoin "github.com/cyphar/filepath-securejoin"
	fscopy "github.com/tonistiigi/fsutil/copy"
	"golang.org/x/sys/unix"
)

// linkCopy is COPY of a directory of the build context without writing
// its files again: the step's upper directory gets hard links to the
// mirror's files (which a sync never changes in place: a changed file is
// a new inode, see copyFile) and new directories and symlinks made as
// fscopy would make them. It gives the same layer as fscopy.Copy with
// opts; for 10,000 files it saves writing the whole tree a second time,
// which is most of a cold build's time.
//
// It applies only where that is easy to be sure of; where it does not it
// returns false having changed nothing but what fscopy with opts would
// change anyway, and the caller copies as usual. The caller checks what
// it knows about the step (see linkable); linkCopy checks the filesystem:
//
//   - the source resolves to a directory of a synced mirror on the same
//     filesystem as the upper directory;
//   - the destination is a real directory (no symlink on the way) without
//     a default ACL, and none of the source's top-level names exists under
//     it in the snapshot or in any lower layer (not even as a whiteout), so
//     that every entry linkCopy makes is new and plain;
//   - no mirror file it would link is linked already (link count 1), so
//     that no two paths of a stage share an inode.
//
// The one visible difference: a linked file's link count is 2 (the
// mirror's name and the layer's), which `stat` and `ls -l` in a later RUN
// show; the layer's tar does not carry link counts.
//
// The destination directory itself is made by fscopy.Copy with every
// child excluded, which creates it or sets its times exactly as the full
// copy would, then its times are put back once its children are made.
func linkCopy(ctx context.Context, m *contextMirror, src string, sn snapshot, dest string, opts ...fscopy.Opt) (bool, error) {
	if m == nil || m.nodes == nil {
		return false, nil
	}
	rel, err := m.resolve(src)
	if err != nil {
		return false, nil
	}
	if rel == "." {
		rel = ""
	}
	node, ok := m.nodes[rel]
	if !ok || !node.mode.IsDir() {
		return false, nil
	}
	srcDir := filepath.Join(m.dir, filepath.FromSlash(rel))
	var srcSt, upSt unix.Stat_t
	if unix.Stat(srcDir, &srcSt) != nil || unix.Stat(sn.upper, &upSt) != nil || srcSt.Dev != upSt.Dev {
		return false, nil
	}

	// The destination as the full copy takes it; a symlink on the way
	// would put the files elsewhere than upper/dest.
	destRel := path.Clean("/" + filepath.ToSlash(dest))
	if destRel == "/" {
		return false, nil // the snapshot root is upper's root: left to fscopy
	}
	resolved, err := securejoin.SecureJoin(sn.root, destRel)
	if err != nil || resolved != filepath.Join(sn.root, filepath.FromSlash(destRel)) {
		return false, nil
	}
	if fi, err := os.Lstat(resolved); err == nil && !fi.IsDir() {
		return false, nil
	}
	for _, name := range node.children {
		if _, err := os.Lstat(filepath.Join(resolved, name)); !errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		for _, l := range sn.lowers {
			_, err := os.Lstat(filepath.Join(l, filepath.FromSlash(destRel), name))
			if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				return false, nil
			}
		}
	}

	// The destination directory, as the copy makes it.
	dirOnly := append(append([]fscopy.Opt{}, opts...), func(ci *fscopy.CopyInfo) {
		ci.ExcludePatterns = []string{"*"}
	})
	if err := fscopy.Copy(ctx, m.dir, "/"+rel, sn.root, dest, dirOnly...); err != nil {
		return false, trimRoots(err, m.dir, sn.root)
	}
	upDest := filepath.Join(sn.upper, filepath.FromSlash(destRel))
	var destSt unix.Stat_t
	if err := unix.Lstat(upDest, &destSt); err != nil || destSt.Mode&unix.S_IFMT != unix.S_IFDIR {
		return false, nil
	}
	// A file created in a directory with a default ACL gets an ACL of its
	// own; a linked file would not.
	if _, err := unix.Lgetxattr(upDest, "system.posix_acl_default", nil); !errors.Is(err, unix.ENODATA) && !errors.Is(err, unix.ENOTSUP) {
		return false, nil
	}

	l := &linker{ctx: ctx, m: m}
	var made []string
	for _, name := range node.children {
		made = append(made, name)
		if err := l.entry(path.Join(rel, name), filepath.Join(upDest, name)); err != nil {
			// Undo: every name made is new (checked above).
			for _, n := range made {
				if rerr := os.RemoveAll(filepath.Join(upDest, n)); rerr != nil {
					return false, rerr
				}
			}
			if rerr := restoreTimes(upDest, &destSt); rerr != nil {
				return false, rerr
			}
			if errors.Is(err, errNotLinkable) {
				return false, nil
			}
			return false, err
		}
	}
	return true, restoreTimes(upDest, &destSt)
}

// errNotLinkable stops linkCopy on an entry it cannot make as fscopy
// would: one with xattrs, a file owned by someone other than root, or one
// already linked elsewhere.
var errNotLinkable = errors.New("not linkable")

type linker struct {
	ctx context.Context
	m   *contextMirror
	n   int
}

// entry makes dst, in the upper directory, as a copy of the mirror's rel
// owned by root: fscopy's result with the chown every context copy has.
func (l *linker) entry(rel, dst string) error {
	if l.n++; l.n%256 == 0 {
		if err := l.ctx.Err(); err != nil {
			return err
		}
	}
	src := filepath.Join(l.m.dir, filepath.FromSlash(rel))
	var st unix.Stat_t
	if err := unix.Lstat(src, &st); err != nil {
		return &fs.PathError{Op: "lstat", Path: src, Err: err}
	}
	if st.Uid != 0 || st.Gid != 0 {
		return errNotLinkable
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
		// A file some layer already links (an earlier COPY of it, in
		// this build or one before) is copied: two paths to one inode
		// in a stage would be hard links to whatever reads the stage
		// (COPY --from, cp -a and tar in a RUN).
		if st.Nlink != 1 {
			return errNotLinkable
		}
		return os.Link(src, dst)
	case unix.S_IFLNK:
		if hasXattrs(src) {
			return errNotLinkable
		}
		if err := os.Symlink(l.m.nodes[rel].target, dst); err != nil {
			return err
		}
		// Made by root, but a setgid parent would give it its group.
		if err := os.Lchown(dst, 0, 0); err != nil {
			return err
		}
		return restoreTimes(dst, &st)
	case unix.S_IFDIR:
		if hasXattrs(src) {
			return errNotLinkable
		}
		if err := os.Mkdir(dst, 0o700); err != nil {
			return err
		}
		// Made by root, but a setgid parent would give it its group.
		if err := os.Lchown(dst, 0, 0); err != nil {
			return err
		}
		if err := unix.Chmod(dst, st.Mode&0o7777); err != nil {
			return &fs.PathError{Op: "chmod", Path: dst, Err: err}
		}
		for _, name := range l.m.nodes[rel].children {
			if err := l.entry(path.Join(rel, name), filepath.Join(dst, name)); err != nil {
				return err
			}
		}
		return restoreTimes(dst, &st)
	}
	return fmt.Errorf("%s: unexpected file type in the context mirror", src)
}

// restoreTimes gives p (not followed) the access and modification times
// of st.
func restoreTimes(p string, st *unix.Stat_t) error {
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return &fs.PathError{Op: "utimensat", Path: p, Err: err}
	}
	return nil
}

// hasXattrs reports whether p (not followed) has extended attributes, or
// whether that cannot be told.
func hasXattrs(p string) bool {
	n, err := unix.Llistxattr(p, nil)
	return err != nil && !errors.Is(err, unix.ENOTSUP) || n > 0
}
