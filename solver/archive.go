package solver

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
	fscopy "github.com/tonistiigi/fsutil/copy"
	"github.com/ulikunitz/xz"
	"golang.org/x/sys/unix"

	"github.com/stratabuild/strata/layers"
)

// ErrArchiveTooLarge is wrapped by the error of an ADD whose archive
// expands to more bytes than the file system holding the build has free.
var ErrArchiveTooLarge = errors.New("the archive expands to more than the free space")

// errWhiteoutName is the error for an archive entry whose name starts with
// ".wh.": such names are whiteouts in a layer, so a file of that name
// cannot be part of an image.
var errWhiteoutName = errors.New(`names starting with ".wh." are reserved for whiteouts`)

// maxZstdWindow bounds the memory a zstd archive can make ADD allocate
// (zstd --long=27 and every level without --long fit).
const maxZstdWindow = 128 << 20

// extractIfArchive extracts src into dest inside rootfs when src is a tar
// archive (plain, gzip, bzip2, xz or zstd), as ADD does with local
// archives. It reports false, and does nothing, for any other file.
//
// The archive is extracted as BuildKit does, which chroots into the
// destination first: every name, hard link target and symlink met on the
// way is resolved with dest as "/" (openat2 RESOLVE_IN_ROOT, or its
// emulation), so that "../x" and "/x" land in dest/x, a symlink the
// archive made to "/etc" leads to dest/etc, and nothing is written outside
// dest. Entries keep their owners, or take chown's. Devices and fifos are
// made as a rootful BuildKit makes them.
//
// Where strata differs: an entry named ".wh.*" is an error (BuildKit
// writes a file that every reader of the layer takes for a whiteout), and
// so is an archive whose entries add up to more bytes than the file system
// has free (ErrArchiveTooLarge), checked at each entry's header, before its
// content is read: extracted files are sparse, so zeros take no space, but
// a layer of them would still be read and compressed byte by byte.
func extractIfArchive(src, rootfs, dest string, chown fscopy.Chowner) (bool, error) {
	fi, err := os.Lstat(src)
	if err != nil || !fi.Mode().IsRegular() {
		return false, nil
	}
	f, err := os.OpenFile(src, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return false, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	r, closeFn, ok, err := decompress(br)
	if err != nil || !ok {
		return false, nil
	}
	defer closeFn()
	head := bufio.NewReaderSize(r, 1024)
	peek, _ := head.Peek(512)
	if len(peek) < 512 || !isTarHeader(peek) {
		return false, nil
	}
	base, err := securePath(rootfs, dest)
	if err != nil {
		return true, err
	}
	// The directories ADD makes for dest take the --chown owner, as
	// BuildKit's do.
	if _, err := fscopy.MkdirAll(base, 0o755, chown, nil); err != nil {
		return true, fmt.Errorf("creating %s: %w", dest, trimRoot(err, rootfs))
	}
	root, err := os.OpenFile(base, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return true, fmt.Errorf("opening %s: %w", dest, trimRoot(err, rootfs))
	}
	defer root.Close()
	var st unix.Statfs_t
	if err := unix.Fstatfs(int(root.Fd()), &st); err != nil {
		return true, err
	}
	x := &extractor{root: root, hostPath: base, dest: path.Clean("/" + dest), chown: chown, free: int64(st.Bavail) * st.Bsize, buf: make([]byte, 128<<10)}
	if err := x.untar(head); err != nil {
		return true, fmt.Errorf("extracting %s: %w", path.Base(src), err)
	}
	return true, nil
}

// trimRoot removes the host path of the image root from an error.
func trimRoot(err error, rootfs string) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		p := strings.TrimPrefix(pe.Path, rootfs)
		if p == "" {
			p = "/"
		}
		return &os.PathError{Op: pe.Op, Path: p, Err: pe.Err}
	}
	return err
}

// decompress returns the decompressed stream of br and a func that
// releases it.
func decompress(br *bufio.Reader) (io.Reader, func(), bool, error) {
	none := func() {}
	magic, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		r, err := pgzip.NewReader(br)
		if err != nil {
			return nil, none, false, err
		}
		return r, func() { r.Close() }, true, nil
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(br), none, true, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		r, err := xz.NewReader(br)
		return r, none, err == nil, err
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		r, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, none, false, err
		}
		return r, r.Close, true, nil
	}
	return br, none, true, nil
}

func isTarHeader(b []byte) bool {
	if bytes.Equal(b[257:262], []byte("ustar")) {
		return true
	}
	// Old V7 tars have no magic: check the header checksum.
	var sum int64
	for i, c := range b[:512] {
		if i >= 148 && i < 156 {
			c = ' '
		}
		sum += int64(c)
	}
	field := strings.TrimRight(strings.TrimSpace(string(b[148:156])), "\x00")
	var want int64
	if _, err := fmt.Sscanf(field, "%o", &want); err != nil {
		return false
	}
	return sum == want && sum != 8*' '
}

// extractor writes the entries of one archive below root.
type extractor struct {
	root     *os.File // O_PATH handle of the destination: "/" for the archive
	hostPath string   // its path on the host, for error messages to hide
	dest     string   // its path in the image, to show instead
	chown    fscopy.Chowner
	free     int64 // bytes free on root's file system; entries may use up to this
	total    int64 // bytes of the entries so far
	dirs     []dirTimes
	buf      []byte
}

type dirTimes struct {
	rel string
	ts  []unix.Timespec
}

// cleanName returns an entry name relative to the destination, with ".."
// and a leading "/" resolved as under chroot: "../x" and "/x" are "x".
func cleanName(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

func (x *extractor) untar(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading archive: %w", err)
		}
		if err := x.entry(hdr, tr); err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				if rest, ok := strings.CutPrefix(pe.Path, x.hostPath); ok {
					err = &os.PathError{Op: pe.Op, Path: path.Join(x.dest, rest), Err: pe.Err}
				}
			}
			if errors.Is(err, unix.ENOSPC) {
				err = fmt.Errorf("%w (the file system holding the build is full)", err)
			}
			return fmt.Errorf("entry %q: %w", hdr.Name, err)
		}
	}
	// Directory times last: writing in a directory changes its mtime.
	for i := len(x.dirs) - 1; i >= 0; i-- {
		d := x.dirs[i]
		dir, base := path.Split(d.rel)
		parent, err := pathrs.OpenatInRoot(x.root, "/"+dir)
		if err != nil {
			continue // replaced by a later entry
		}
		unix.UtimesNanoAt(int(parent.Fd()), base, d.ts, unix.AT_SYMLINK_NOFOLLOW)
		parent.Close()
	}
	return nil
}

// entry writes one entry, reading a regular file's content from r.
func (x *extractor) entry(hdr *tar.Header, r io.Reader) error {
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
		return nil
	}
	rel := cleanName(hdr.Name)
	if rel == "" {
		// "./": BuildKit leaves the existing destination as it is.
		return nil
	}
	for part := range strings.SplitSeq(rel, "/") {
		if strings.HasPrefix(part, ".wh.") {
			return errWhiteoutName
		}
	}
	if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA || hdr.Typeflag == tar.TypeGNUSparse {
		if x.total += hdr.Size; hdr.Size < 0 || x.total > x.free {
			return fmt.Errorf("%w: %s so far, %s free", ErrArchiveTooLarge, binarySize(x.total), binarySize(x.free))
		}
	}
	dir, base := path.Split(rel)
	parent, err := pathrs.MkdirAllHandle(x.root, "/"+dir, 0o755)
	if err != nil {
		return err
	}
	defer parent.Close()
	pfd := int(parent.Fd())
	mode := uint32(hdr.Mode & 0o7777)
	uid, gid := hdr.Uid, hdr.Gid
	if x.chown != nil {
		if u, err := x.chown(&fscopy.User{UID: uid, GID: gid}); err == nil && u != nil {
			uid, gid = u.UID, u.GID
		}
	}

	switch hdr.Typeflag {
	case tar.TypeDir:
		var st unix.Stat_t
		err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
		if err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if err := layers.RemoveAt(pfd, base); err != nil {
				return err
			}
			err = unix.ENOENT
		}
		if errors.Is(err, unix.ENOENT) {
			err = unix.Mkdirat(pfd, base, 0o700)
		}
		if err != nil {
			return err
		}
		fd, err := unix.Openat(pfd, base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		err = x.setAttrs(fd, uid, gid, mode, hdr)
		unix.Close(fd)
		if err != nil {
			return err
		}
		x.dirs = append(x.dirs, dirTimes{rel, layers.EntryTimes(hdr)})
		return nil

	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse:
		if err := layers.RemoveAt(pfd, base); err != nil {
			return err
		}
		fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		if err != nil {
			return err
		}
		f := os.NewFile(uintptr(fd), base)
		defer f.Close()
		if err := layers.CopySparse(f, r, x.buf); err != nil {
			return err
		}
		if err := x.setAttrs(fd, uid, gid, mode, hdr); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}

	case tar.TypeSymlink:
		if err := layers.RemoveAt(pfd, base); err != nil {
			return err
		}
		if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
			return err
		}
		if err := unix.Fchownat(pfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}

	case tar.TypeLink:
		target := cleanName(hdr.Linkname)
		if target == "" || target == rel {
			return fmt.Errorf("hard link to %q: not a file", hdr.Linkname)
		}
		tdir, tbase := path.Split(target)
		tparent, err := pathrs.OpenatInRoot(x.root, "/"+tdir)
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR) {
			return fmt.Errorf("hard link to %q: no such file in %s", hdr.Linkname, x.dest)
		}
		if err != nil {
			return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
		}
		defer tparent.Close()
		if err := layers.RemoveAt(pfd, base); err != nil {
			return err
		}
		// Without AT_SYMLINK_FOLLOW a symlink is linked itself, never
		// what it points to.
		if err := unix.Linkat(int(tparent.Fd()), tbase, pfd, base, 0); errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("hard link to %q: no such file in %s", hdr.Linkname, x.dest)
		} else if err != nil {
			return fmt.Errorf("hard link to %q: %w", hdr.Linkname, err)
		}
		return nil // a hard link shares its target's attributes

	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
		if err := layers.RemoveAt(pfd, base); err != nil {
			return err
		}
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := unix.Mknodat(pfd, base, kind|mode, int(dev)); err != nil {
			return err
		}
		if err := unix.Fchownat(pfd, base, uid, gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
		// base was just made by mknod and is no symlink.
		if err := unix.Fchmodat(pfd, base, mode, 0); err != nil {
			return err
		}

	default:
		return nil // other types (sockets, vendor extensions) are skipped, as by BuildKit's tar reader
	}
	return unix.UtimesNanoAt(pfd, base, layers.EntryTimes(hdr), unix.AT_SYMLINK_NOFOLLOW)
}

// capabilityXattr holds a file's capabilities: the one xattr an ADD keeps,
// as in BuildKit, whose layers (containerd's tar writer) carry no other.
const capabilityXattr = "security.capability"

// setAttrs gives the open file or directory fd its owner, then its mode
// (chown clears setuid bits), then its file capabilities (chown clears
// them), best effort as in BuildKit.
func (x *extractor) setAttrs(fd, uid, gid int, mode uint32, hdr *tar.Header) error {
	if err := unix.Fchown(fd, uid, gid); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	if err := unix.Fchmod(fd, mode); err != nil {
		return fmt.Errorf("chmod: %w", err)
	}
	if c, ok := hdr.PAXRecords["SCHILY.xattr."+capabilityXattr]; ok {
		unix.Fsetxattr(fd, capabilityXattr, []byte(c), 0)
	}
	return nil
}

// binarySize formats n bytes with a binary unit: "10.0 TiB".
func binarySize(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/1024, 0
	for ; v >= 1024 && i < len(units)-1; i++ {
		v /= 1024
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}
