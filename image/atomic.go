package image

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// WriteFile creates or replaces the file dest with what write produces.
// The content goes to a temporary file next to dest that is renamed over
// dest only once write has succeeded, so a failure never leaves a partial
// file behind. Use it with WriteDocker, WriteTar or WriteOCIArchive for a
// destination on disk.
func WriteFile(dest string, write func(io.Writer) error) error {
	if info, err := os.Stat(dest); err == nil && info.IsDir() {
		return fmt.Errorf("%s is a directory", dest)
	}
	f, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), dest); err != nil {
		return err
	}
	ok = true
	return nil
}

// writeDir fills a temporary directory next to dest with fill and then
// puts it in dest's place. An existing dest must be an empty directory or
// pass replaceable; it is swapped out atomically and removed.
func writeDir(dest string, replaceable func(dir string) bool, fill func(dir string) error) error {
	exists, err := checkReplaceable(dest, replaceable)
	if err != nil {
		return err
	}
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dest)+".tmp-")
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		return err
	}
	if !exists {
		if err := os.Rename(tmp, dest); err != nil {
			return err
		}
		ok = true
		return nil
	}
	// Swap the two directories in one step, then drop the old one (now at
	// tmp, which the deferred RemoveAll takes care of).
	if err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, dest, unix.RENAME_EXCHANGE); err == nil {
		return nil
	}
	// Without renameat2 (old kernels, some file systems): two renames.
	old := tmp + ".old"
	if err := os.Rename(dest, old); err != nil {
		return err
	}
	if err := os.Rename(tmp, dest); err != nil {
		_ = os.Rename(old, dest)
		return err
	}
	ok = true
	return os.RemoveAll(old)
}

// checkReplaceable reports whether dest exists, and fails if it exists but
// may not be replaced.
func checkReplaceable(dest string, replaceable func(string) bool) (bool, error) {
	info, err := os.Lstat(dest)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if !info.IsDir() {
		return true, fmt.Errorf("%s exists and is not a directory", dest)
	}
	entries, err := os.ReadDir(dest)
	if err != nil {
		return true, err
	}
	if len(entries) == 0 || (replaceable != nil && replaceable(dest)) {
		return true, nil
	}
	return true, fmt.Errorf("%s exists and is not empty", dest)
}
