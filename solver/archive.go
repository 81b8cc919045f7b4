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
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
	fscopy "github.com/tonistiigi/fsutil/copy"
	"github.com/ulikunitz/xz"
	"golang.org/x/sys/unix"
)

// extractIfArchive extracts src into dest inside rootfs when src is a tar
// archive (plain, gzip, bzip2, xz or zstd), as ADD does with local
// archives. It reports false, and does nothing, for any other file.
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
	r, ok, err := decompress(br)
	if err != nil || !ok {
		return false, nil
	}
	head := bufio.NewReaderSize(r, 1024)
	peek, _ := head.Peek(512)
	if len(peek) < 512 || !isTarHeader(peek) {
		return false, nil
	}
	return true, untar(head, rootfs, dest, chown)
}

func decompress(br *bufio.Reader) (io.Reader, bool, error) {
	magic, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		r, err := pgzip.NewReader(br)
		return r, err == nil, err
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(br), true, nil
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		r, err := xz.NewReader(br)
		return r, err == nil, err
	case bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		r, err := zstd.NewReader(br)
		return r, err == nil, err
	}
	return br, true, nil
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

// untar writes a tar stream into dest within rootfs. Every name is resolved
// inside rootfs (symlinks included), so no entry can write outside it.
func untar(r io.Reader, rootfs, dest string, chown fscopy.Chowner) error {
	tr := tar.NewReader(r)
	type dirTime struct {
		p string
		t time.Time
	}
	var dirs []dirTime
	base, err := securePath(rootfs, dest)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return err
	}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading archive: %w", err)
		}
		name := path.Clean("/" + hdr.Name)
		if name == "/" {
			continue
		}
		target, err := securePath(rootfs, path.Join(dest, name))
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		mode := os.FileMode(hdr.Mode).Perm()
		switch hdr.Typeflag {
		case tar.TypeDir:
			if fi, err := os.Lstat(target); err != nil || !fi.IsDir() {
				os.RemoveAll(target)
				if err := os.Mkdir(target, mode); err != nil {
					return err
				}
			}
			dirs = append(dirs, dirTime{target, hdr.ModTime})
		case tar.TypeReg, tar.TypeRegA:
			os.RemoveAll(target)
			f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			os.RemoveAll(target)
			if err := os.Symlink(hdr.Linkname, target); err != nil {
				return err
			}
		case tar.TypeLink:
			old, err := securePath(rootfs, path.Join(dest, path.Clean("/"+hdr.Linkname)))
			if err != nil {
				return err
			}
			os.RemoveAll(target)
			if err := os.Link(old, target); err != nil {
				return err
			}
		case tar.TypeFifo:
			os.RemoveAll(target)
			if err := unix.Mkfifo(target, uint32(mode)); err != nil {
				return err
			}
		default:
			// Devices and other special files are skipped, as in Docker's
			// unprivileged extraction.
			continue
		}
		uid, gid := hdr.Uid, hdr.Gid
		if chown != nil {
			if u, err := chown(&fscopy.User{UID: uid, GID: gid}); err == nil && u != nil {
				uid, gid = u.UID, u.GID
			}
		}
		if err := os.Lchown(target, uid, gid); err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeSymlink {
			if err := os.Chmod(target, os.FileMode(hdr.Mode)&(os.ModePerm|os.ModeSetuid|os.ModeSetgid|os.ModeSticky)|modeBits(hdr.Mode)); err != nil {
				return err
			}
		}
		ts := []unix.Timespec{unix.NsecToTimespec(hdr.ModTime.UnixNano()), unix.NsecToTimespec(hdr.ModTime.UnixNano())}
		unix.UtimesNanoAt(unix.AT_FDCWD, target, ts, unix.AT_SYMLINK_NOFOLLOW)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Chtimes(dirs[i].p, dirs[i].t, dirs[i].t)
	}
	return nil
}

// modeBits maps tar's setuid/setgid/sticky bits to os.FileMode.
func modeBits(m int64) os.FileMode {
	var out os.FileMode
	if m&04000 != 0 {
		out |= os.ModeSetuid
	}
	if m&02000 != 0 {
		out |= os.ModeSetgid
	}
	if m&01000 != 0 {
		out |= os.ModeSticky
	}
	return out
}
