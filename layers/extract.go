package layers

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Helpers for the two tar extractors that write below a directory file
// descriptor: Unpack (image layers) and the solver's ADD extraction.

// zeros is compared against to find holes.
var zeros = make([]byte, 128<<10)

// CopySparse copies r to the empty file f through buf, seeking over blocks
// of zeros instead of writing them, so that sparse files stay sparse and
// decompressed zeros take no space.
func CopySparse(f *os.File, r io.Reader, buf []byte) error {
	var size int64
	hole := false
	for {
		n, err := readFull(r, buf)
		if n > 0 {
			chunk := buf[:n]
			if n <= len(zeros) && bytes.Equal(chunk, zeros[:n]) {
				if _, err := f.Seek(int64(n), io.SeekCurrent); err != nil {
					return err
				}
				hole = true
			} else {
				if _, err := f.Write(chunk); err != nil {
					return err
				}
				hole = false
			}
			size += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if hole {
		return f.Truncate(size)
	}
	return nil
}

// readFull reads into buf until it is full or r fails. Unlike io.ReadFull
// it returns io.EOF at the end of r even after a partial read, keeping
// io.ErrUnexpectedEOF for a truncated archive.
func readFull(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// EntryTimes is the atime and mtime a tar entry gives its file (its mtime
// when it has no atime), for utimensat.
func EntryTimes(hdr *tar.Header) []unix.Timespec {
	atime := hdr.AccessTime
	if atime.IsZero() {
		atime = hdr.ModTime
	}
	return []unix.Timespec{timespec(atime), timespec(hdr.ModTime)}
}

func timespec(t time.Time) unix.Timespec {
	return unix.Timespec{Sec: t.Unix(), Nsec: int64(t.Nanosecond())}
}

// RemoveAt removes name from the directory dirfd, with everything below it
// for a directory, without following symlinks. A missing name is no error.
func RemoveAt(dirfd int, name string) error {
	err := unix.Unlinkat(dirfd, name, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.EISDIR) {
		return fmt.Errorf("removing %s: %w", name, err)
	}
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("removing %s: %w", name, err)
	}
	d := os.NewFile(uintptr(fd), name)
	names, err := d.Readdirnames(-1)
	if err != nil {
		d.Close()
		return fmt.Errorf("removing %s: %w", name, err)
	}
	for _, child := range names {
		if err := RemoveAt(fd, child); err != nil {
			d.Close()
			return err
		}
	}
	d.Close()
	if err := unix.Unlinkat(dirfd, name, unix.AT_REMOVEDIR); err != nil {
		return fmt.Errorf("removing %s: %w", name, err)
	}
	return nil
}
