package layers

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// TarOption configures WriteTar and Pack.
type TarOption func(*tarConfig)

type tarConfig struct {
	// epoch, when not zero, is the latest modification time written.
	epoch time.Time
}

// WithSourceDateEpoch clamps the modification time of every entry to t
// (an entry keeps its own time when it is earlier), as BuildKit does with
// SOURCE_DATE_EPOCH, so that rebuilding the same input gives the same bytes.
func WithSourceDateEpoch(t time.Time) TarOption {
	return func(c *tarConfig) { c.epoch = t }
}

// paxXattrPrefix prefixes the PAX records that carry xattrs.
const paxXattrPrefix = "SCHILY.xattr."

// WriteTar streams dir, a layer directory, to w as an OCI layer tar.
//
// Entries come in walk order (the names of each directory sorted, a
// directory before its children), named relative to dir without a leading
// "./" or "/", directories with a trailing "/". The root itself gets no entry.
// A 0/0 character device becomes the whiteout ".wh.<name>", an opaque
// directory is followed at once by its "<dir>/.wh..wh..opq" marker, the
// second and later paths of a multiply-linked inode become hard links to the
// first, and sockets are left out. Headers are PAX, keep nanosecond
// modification times and xattrs (as SCHILY.xattr records, without
// overlayfs's own), and carry numeric owners only; access and change times
// are not written. A file whose name starts with ".wh." is an error: no
// reader could tell it from a whiteout.
func WriteTar(w io.Writer, dir string, opts ...TarOption) error {
	var cfg tarConfig
	for _, o := range opts {
		o(&cfg)
	}
	tw := &tarWriter{
		tw:    tar.NewWriter(w),
		cfg:   cfg,
		links: make(map[inode]string),
		buf:   make([]byte, 256<<10),
	}
	if err := tw.writeRoot(dir); err != nil {
		return fmt.Errorf("writing tar of %s: %w", dir, err)
	}
	if err := tw.tw.Close(); err != nil {
		return fmt.Errorf("writing tar of %s: %w", dir, err)
	}
	return nil
}

// inode identifies a file for hard link detection.
type inode struct {
	dev, ino uint64
}

// tarWriter holds the state of one WriteTar.
type tarWriter struct {
	tw     *tar.Writer
	cfg    tarConfig
	links  map[inode]string // first name written for each multiply-linked inode
	xattrs xattrReader
	buf    []byte
}

// writeRoot writes the entries below the layer directory root.
func (t *tarWriter) writeRoot(root string) error {
	var st unix.Stat_t
	if err := unix.Lstat(root, &st); err != nil {
		return &os.PathError{Op: "lstat", Path: root, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return &os.PathError{Op: "walk", Path: root, Err: unix.ENOTDIR}
	}
	xattrs, err := t.xattrs.read(root)
	if err != nil {
		return &os.PathError{Op: "listxattr", Path: root, Err: err}
	}
	if isOpaque(xattrs) {
		if err := t.tw.WriteHeader(t.marker(whiteoutOpaque, &st)); err != nil {
			return err
		}
	}
	return t.walk(root, "")
}

// walk writes the entries of the directory at path, whose tar name is
// prefix ("" for the root, else ending in "/").
func (t *tarWriter) walk(path, prefix string) error {
	names, err := readDirNames(path)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := t.writeEntry(path+"/"+name, prefix, name); err != nil {
			return err
		}
	}
	return nil
}

// readDirNames returns the names in the directory at path, sorted.
func readDirNames(path string) ([]string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("reading directory %s: %w", path, err)
	}
	slices.Sort(names)
	return names, nil
}

// writeEntry writes the file at path, named prefix+name in the tar, and
// for a directory everything below it.
func (t *tarWriter) writeEntry(path, prefix, name string) error {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return &os.PathError{Op: "lstat", Path: path, Err: err}
	}
	if isWhiteoutDevice(&st) {
		// Checked before hard links: overlayfs may give all whiteouts of
		// a layer one shared inode.
		return t.tw.WriteHeader(t.marker(prefix+whiteoutPrefix+name, &st))
	}
	format := st.Mode & unix.S_IFMT
	if format == unix.S_IFSOCK {
		return nil
	}
	if strings.HasPrefix(name, whiteoutPrefix) {
		// Every reader would take it for a whiteout or aufs metadata.
		return fmt.Errorf("%s: names starting with %q are reserved for whiteouts", path, whiteoutPrefix)
	}

	hdr := &tar.Header{
		Name:    prefix + name,
		Mode:    int64(st.Mode & 0o7777),
		Uid:     int(st.Uid),
		Gid:     int(st.Gid),
		ModTime: t.clamp(time.Unix(st.Mtim.Unix())),
		Format:  tar.FormatPAX,
	}
	if format != unix.S_IFDIR && st.Nlink > 1 {
		id := inode{dev: st.Dev, ino: st.Ino}
		if first, ok := t.links[id]; ok {
			hdr.Typeflag = tar.TypeLink
			hdr.Linkname = first
			return t.tw.WriteHeader(hdr)
		}
		t.links[id] = hdr.Name
	}

	xattrs, err := t.xattrs.read(path)
	if err != nil {
		return &os.PathError{Op: "listxattr", Path: path, Err: err}
	}
	for _, kv := range xattrs {
		if isOverlayXattr(kv[0]) {
			continue
		}
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = make(map[string]string)
		}
		hdr.PAXRecords[paxXattrPrefix+kv[0]] = kv[1]
	}

	switch format {
	case unix.S_IFDIR:
		hdr.Typeflag = tar.TypeDir
		hdr.Name += "/"
		if err := t.tw.WriteHeader(hdr); err != nil {
			return err
		}
		if isOpaque(xattrs) {
			if err := t.tw.WriteHeader(t.marker(hdr.Name+whiteoutOpaque, &st)); err != nil {
				return err
			}
		}
		return t.walk(path, hdr.Name)
	case unix.S_IFREG:
		hdr.Typeflag = tar.TypeReg
		hdr.Size = st.Size
		if err := t.tw.WriteHeader(hdr); err != nil {
			return err
		}
		return t.copyFile(path, st.Size)
	case unix.S_IFLNK:
		target, err := os.Readlink(path)
		if err != nil {
			return err
		}
		hdr.Typeflag = tar.TypeSymlink
		hdr.Linkname = target
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.Typeflag = tar.TypeChar
		if format == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor = int64(unix.Major(st.Rdev))
		hdr.Devminor = int64(unix.Minor(st.Rdev))
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	default:
		return fmt.Errorf("%s: unsupported file type %#o", path, format)
	}
	return t.tw.WriteHeader(hdr)
}

// marker returns the header of a whiteout or opaque marker named name,
// taking its modification time from st: an empty regular file with mode 0
// and owner 0:0, as overlayfs creates whiteouts.
func (t *tarWriter) marker(name string, st *unix.Stat_t) *tar.Header {
	return &tar.Header{
		Typeflag: tar.TypeReg,
		Name:     name,
		ModTime:  t.clamp(time.Unix(st.Mtim.Unix())),
		Format:   tar.FormatPAX,
	}
}

// clamp applies WithSourceDateEpoch to a modification time.
func (t *tarWriter) clamp(mtime time.Time) time.Time {
	if !t.cfg.epoch.IsZero() && mtime.After(t.cfg.epoch) {
		return t.cfg.epoch
	}
	return mtime
}

// errFileChanged reports a file whose size changed while it was written.
var errFileChanged = errors.New("file changed size while being written")

// copyFile writes the size bytes of the regular file at path to the tar.
func (t *tarWriter) copyFile(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	// A file that grew is cut at the size in its header; one that shrank
	// is reported rather than padded.
	n, err := io.CopyBuffer(t.tw, io.LimitReader(f, size), t.buf)
	if err != nil {
		return fmt.Errorf("copying %s: %w", path, err)
	}
	if n != size {
		return fmt.Errorf("copying %s: %w", path, errFileChanged)
	}
	return nil
}
