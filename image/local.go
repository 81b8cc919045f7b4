package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"golang.org/x/sys/unix"
)

// Whiteout names in layer tars (the OCI image spec's, from AUFS).
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// WriteTar writes the image's final filesystem to w as one tar stream: the
// layers flattened with whiteouts applied (go-containerregistry's
// mutate.Extract).
func WriteTar(img v1.Image, w io.Writer) error {
	rc := mutate.Extract(img)
	defer rc.Close()
	if _, err := io.Copy(w, rc); err != nil {
		return fmt.Errorf("writing filesystem tar: %w", err)
	}
	return nil
}

// WriteLocal writes the image's final filesystem into the directory dest,
// which must not exist or be empty. The layers are applied in order into a
// temporary directory next to dest, which is renamed to dest at the end.
// Whiteouts and opaque directories are honoured; modes (including setuid
// bits), symlinks, hard links, modification times and extended attributes
// are kept, and so are owners and device nodes when running as root. No
// entry can land outside dest: every path is resolved inside it with
// symlinks interpreted relative to dest.
func WriteLocal(img v1.Image, dest string) error {
	err := writeDir(dest, nil, func(dir string) error { return unpackImage(img, dir) })
	if err != nil {
		return fmt.Errorf("writing filesystem to %s: %w", dest, err)
	}
	return nil
}

// unpackImage applies the layers of img to the empty directory dir.
func unpackImage(img v1.Image, dir string) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	u := newUnpacker(dir)
	for i, l := range layers {
		if err := u.applyLayer(l); err != nil {
			return fmt.Errorf("layer %d: %w", i+1, err)
		}
	}
	return u.finish()
}

// unpacker applies layer tars, bottom first, to a directory.
type unpacker struct {
	root  string
	owner bool                   // set owners and make devices (root only)
	dirs  map[string]*tar.Header // directory metadata, applied last
}

func newUnpacker(root string) *unpacker {
	return &unpacker{root: root, owner: os.Geteuid() == 0, dirs: map[string]*tar.Header{}}
}

func (u *unpacker) applyLayer(l v1.Layer) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := u.apply(tar.NewReader(rc)); err != nil {
		return err
	}
	// Read to the end so that the layer's digest is checked.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return err
	}
	return nil
}

// apply applies one layer.
func (u *unpacker) apply(tr *tar.Reader) error {
	added := map[string]bool{} // paths this layer created, kept by its opaque markers
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading tar: %w", err)
		}
		name := path.Clean("/" + hdr.Name)[1:] // relative, no ".."
		if name == "" {
			if hdr.Typeflag == tar.TypeDir {
				u.dirs[u.root] = hdr
			}
			continue
		}
		dir, base := path.Split(name)
		parent, err := u.resolve(dir)
		if err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, err)
		}

		switch {
		case base == whiteoutOpaque:
			if err := clearExcept(parent, added); err != nil {
				return fmt.Errorf("%s: %w", hdr.Name, err)
			}
			continue
		case strings.HasPrefix(base, whiteoutPrefix):
			gone := base[len(whiteoutPrefix):]
			if gone == "" || gone == "." || gone == ".." {
				return fmt.Errorf("%s: malformed whiteout", hdr.Name)
			}
			if err := os.RemoveAll(filepath.Join(parent, gone)); err != nil {
				return fmt.Errorf("%s: %w", hdr.Name, err)
			}
			delete(u.dirs, filepath.Join(parent, gone))
			continue
		}

		target := filepath.Join(parent, base)
		if err := u.entry(tr, hdr, target); err != nil {
			return fmt.Errorf("%s: %w", hdr.Name, err)
		}
		added[target] = true
	}
}

// resolve returns the directory dir (slash-separated, relative to the
// root) resolved inside the root, creating it if needed.
func (u *unpacker) resolve(dir string) (string, error) {
	p, err := securejoin.SecureJoin(u.root, dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(p, 0o755); err != nil {
		return "", err
	}
	return p, nil
}

// entry creates target from hdr, replacing what a lower layer put there
// unless both are directories.
func (u *unpacker) entry(tr *tar.Reader, hdr *tar.Header, target string) error {
	if fi, err := os.Lstat(target); err == nil {
		if fi.IsDir() && hdr.Typeflag == tar.TypeDir {
			u.dirs[target] = hdr
			return nil
		}
		if err := os.RemoveAll(target); err != nil {
			return err
		}
		delete(u.dirs, target)
	}

	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(target, 0o755); err != nil {
			return err
		}
		u.dirs[target] = hdr
		return nil // metadata at the end
	case tar.TypeReg:
		f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := os.Symlink(hdr.Linkname, target); err != nil {
			return err
		}
	case tar.TypeLink:
		ldir, lbase := path.Split(path.Clean("/" + hdr.Linkname)[1:])
		if lbase == "" {
			return fmt.Errorf("hard link to %q", hdr.Linkname)
		}
		lparent, err := securejoin.SecureJoin(u.root, ldir)
		if err != nil {
			return err
		}
		// link(2) does not follow a symlink at the source, as tar wants.
		return os.Link(filepath.Join(lparent, lbase), target)
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		if !u.owner && hdr.Typeflag != tar.TypeFifo {
			return nil // only root can make devices
		}
		mode := uint32(hdr.Mode & 0o7777)
		switch hdr.Typeflag {
		case tar.TypeChar:
			mode |= unix.S_IFCHR
		case tar.TypeBlock:
			mode |= unix.S_IFBLK
		default:
			mode |= unix.S_IFIFO
		}
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := unix.Mknod(target, mode, int(dev)); err != nil {
			if errors.Is(err, unix.EPERM) {
				return nil
			}
			return err
		}
	default:
		return nil // global headers, sparse and other exotic entries are skipped
	}
	return u.meta(target, hdr)
}

// meta applies owner, mode, extended attributes and times from hdr to
// target, in that order (a chown clears setuid bits).
func (u *unpacker) meta(target string, hdr *tar.Header) error {
	if u.owner {
		if err := os.Lchown(target, hdr.Uid, hdr.Gid); err != nil {
			return err
		}
	}
	if hdr.Typeflag != tar.TypeSymlink {
		if err := os.Chmod(target, hdr.FileInfo().Mode()&(fs.ModePerm|fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky)); err != nil {
			return err
		}
	}
	for k, v := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok {
			continue
		}
		if err := unix.Lsetxattr(target, attr, []byte(v), 0); err != nil && u.owner &&
			!errors.Is(err, unix.ENOTSUP) && !errors.Is(err, unix.EPERM) {
			return fmt.Errorf("setting xattr %s: %w", attr, err)
		}
	}
	return setTimes(target, hdr)
}

func setTimes(target string, hdr *tar.Header) error {
	mtime := hdr.ModTime
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	atime := hdr.AccessTime
	if atime.IsZero() {
		atime = mtime
	}
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, target, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("setting times: %w", err)
	}
	return nil
}

// finish applies directory metadata, deepest first so that a parent's
// time is set after its children were touched.
func (u *unpacker) finish() error {
	dirs := make([]string, 0, len(u.dirs)+1)
	for d := range u.dirs {
		dirs = append(dirs, d)
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Lstat(d); err != nil {
			continue // removed by a later whiteout
		}
		if err := u.meta(d, u.dirs[d]); err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
	}
	return nil
}

// clearExcept empties dir except for what keep lists (paths the current
// layer created), descending into kept directories.
func clearExcept(dir string, keep map[string]bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if !keep[p] {
			if err := os.RemoveAll(p); err != nil {
				return err
			}
			continue
		}
		if e.IsDir() {
			if err := clearExcept(p, keep); err != nil {
				return err
			}
		}
	}
	return nil
}
