package layers

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// ClampTimes gives every entry at and below dir, a layer directory, whose
// modification time is later than epoch the time epoch, and leaves earlier
// ones as they are: BuildKit's rewrite-timestamp for SOURCE_DATE_EPOCH,
// applied to the directory rather than to its tar, so that WriteTar of the
// result equals WriteTar of dir with WithSourceDateEpoch(epoch).
//
// Symlinks are not followed (their own time is set), whiteout devices and
// hard links are set like any other entry, and access times are left
// alone, as no layer tar carries them. Setting a child's time does not
// touch its directory's, so the order of the walk does not matter.
func ClampTimes(dir string, epoch time.Time) error {
	mtime := unix.NsecToTimespec(epoch.UnixNano())
	times := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, mtime}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return &fs.PathError{Op: "lstat", Path: path, Err: err}
		}
		if !time.Unix(st.Mtim.Unix()).After(epoch) {
			return nil
		}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, times, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return &fs.PathError{Op: "utimensat", Path: path, Err: err}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("clamping modification times in %s: %w", dir, err)
	}
	return nil
}
