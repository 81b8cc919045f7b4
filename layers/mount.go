package layers

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// overlayOptions are set on every overlay mount so that the upper
// directory is a complete, self-contained diff: no index entries in the work
// directory, no renamed directories recorded as redirects into lower layers,
// no metadata-only copies whose data stays in a lower layer.
var overlayOptions = [][2]string{
	{"index", "off"},
	{"redirect_dir", "off"},
	{"metacopy", "off"},
}

// Mount mounts an overlay at target over lowers, given topmost first. With
// upper and work set, writes go to upper, which then holds the diff in the
// layer directory format; with both empty the mount is read-only, and a
// single lower is bind-mounted read-only instead (overlayfs wants two lowers
// without an upper). Lowers, upper and work must be directories on a
// filesystem with trusted xattrs; work must be empty and on the same
// filesystem as upper.
//
// Mount uses the kernel's new mount API, which passes each lower on its own
// ("lowerdir+", Linux 6.8) and so has no limit on their number, and falls
// back to mount(2), whose options must fit in one page, on older kernels.
func Mount(target string, lowers []string, upper, work string) error {
	if len(lowers) == 0 {
		return fmt.Errorf("mounting overlay at %s: no lower directories", target)
	}
	// overlayfs refuses a directory that is a lower twice (ELOOP), which
	// a stage has when two of its steps made the same layer (COPY app
	// /a/, RUN rm -r /a, COPY app /a/). Keeping only the topmost occurrence
	// gives the same view: a lower occurrence shows nothing the top one
	// does not show already, or hides.
	lowers = topmostOnce(lowers)
	if (upper == "") != (work == "") {
		return fmt.Errorf("mounting overlay at %s: upper and work directories go together", target)
	}
	if upper == "" && len(lowers) == 1 {
		if err := bindReadOnly(lowers[0], target); err != nil {
			return fmt.Errorf("mounting %s read-only at %s: %w", lowers[0], target, err)
		}
		return nil
	}
	err := errNewMountAPI
	if lowerdirPlus() {
		err = mountOverlay(target, lowers, upper, work)
	}
	if errors.Is(err, errNewMountAPI) {
		err = mountOverlayClassic(target, lowers, upper, work)
	}
	if err != nil {
		return fmt.Errorf("mounting overlay at %s: %w", target, err)
	}
	return nil
}

// topmostOnce is lowers (topmost first) without the repeats of a
// directory below its first occurrence.
func topmostOnce(lowers []string) []string {
	seen := make(map[string]bool, len(lowers))
	out := make([]string, 0, len(lowers))
	for _, l := range lowers {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}

// Unmount unmounts what Mount mounted at target.
func Unmount(target string) error {
	if err := unix.Unmount(target, unix.UMOUNT_NOFOLLOW); err != nil {
		return fmt.Errorf("unmounting %s: %w", target, &os.PathError{Op: "umount", Path: target, Err: err})
	}
	return nil
}

// errNewMountAPI reports that the new mount API, or its "lowerdir+"
// option, is missing and mount(2) should be used instead.
var errNewMountAPI = errors.New("new mount API unavailable")

// lowerdirPlus reports whether overlayfs takes the "lowerdir+" option,
// new in Linux 6.8. Older kernels cannot be told apart by the error:
// before 6.5 fsconfig accepts any key and fails only when the mount is
// created, so ask for the kernel version instead.
var lowerdirPlus = sync.OnceValue(func() bool {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return false
	}
	return kernelAtLeast(unix.ByteSliceToString(uts.Release[:]), 6, 8)
})

// kernelAtLeast reports whether the kernel release string (such as
// "6.18.4-amd64") is at least major.minor.
func kernelAtLeast(release string, major, minor int) bool {
	var gotMajor, gotMinor int
	if _, err := fmt.Sscanf(release, "%d.%d", &gotMajor, &gotMinor); err != nil {
		return false
	}
	return gotMajor > major || gotMajor == major && gotMinor >= minor
}

// mountOverlay mounts with fsopen, fsconfig, fsmount and move_mount.
func mountOverlay(target string, lowers []string, upper, work string) error {
	fsfd, err := unix.Fsopen("overlay", unix.FSOPEN_CLOEXEC)
	if err != nil {
		// ENOSYS before Linux 5.2; EPERM from seccomp filters that
		// predate the syscall.
		return fmt.Errorf("%w: fsopen: %v", errNewMountAPI, err)
	}
	defer unix.Close(fsfd)
	for _, lower := range lowers {
		if err := unix.FsconfigSetString(fsfd, "lowerdir+", lower); err != nil {
			return fmt.Errorf("lower %s: %w", lower, fsError(fsfd, err))
		}
	}
	if upper != "" {
		if err := unix.FsconfigSetString(fsfd, "upperdir", upper); err != nil {
			return fmt.Errorf("upper %s: %w", upper, fsError(fsfd, err))
		}
		if err := unix.FsconfigSetString(fsfd, "workdir", work); err != nil {
			return fmt.Errorf("work %s: %w", work, fsError(fsfd, err))
		}
	}
	for _, kv := range overlayOptions {
		if err := unix.FsconfigSetString(fsfd, kv[0], kv[1]); err != nil {
			return fmt.Errorf("option %s=%s: %w", kv[0], kv[1], fsError(fsfd, err))
		}
	}
	if err := unix.FsconfigCreate(fsfd); err != nil {
		return fsError(fsfd, err)
	}
	attrs := 0
	if upper == "" {
		attrs = unix.MOUNT_ATTR_RDONLY
	}
	mfd, err := unix.Fsmount(fsfd, unix.FSMOUNT_CLOEXEC, attrs)
	if err != nil {
		return fmt.Errorf("fsmount: %w", fsError(fsfd, err))
	}
	defer unix.Close(mfd)
	if err := unix.MoveMount(mfd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("move_mount: %w", err)
	}
	return nil
}

// exists reports whether path names something.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// fsError adds to err the error messages the kernel logged on the
// filesystem context fsfd, which say far more than the errno.
func fsError(fsfd int, err error) error {
	var msgs []string
	buf := make([]byte, 1024)
	for range 32 {
		n, rerr := unix.Read(fsfd, buf)
		if rerr != nil || n <= 0 {
			break
		}
		if msg, ok := strings.CutPrefix(string(buf[:n]), "e "); ok {
			msgs = append(msgs, strings.TrimSpace(msg))
		}
	}
	if len(msgs) == 0 {
		return err
	}
	return fmt.Errorf("%w (%s)", err, strings.Join(msgs, "; "))
}

// mountOverlayClassic mounts with mount(2).
func mountOverlayClassic(target string, lowers []string, upper, work string) error {
	escaped := make([]string, len(lowers))
	for i, l := range lowers {
		escaped[i] = escapeOverlayPath(l)
	}
	opts := []string{"lowerdir=" + strings.Join(escaped, ":")}
	var flags uintptr
	if upper != "" {
		opts = append(opts, "upperdir="+escapeOverlayPath(upper), "workdir="+escapeOverlayPath(work))
	} else {
		flags = unix.MS_RDONLY
	}
	for _, kv := range overlayOptions {
		opts = append(opts, kv[0]+"="+kv[1])
	}
	data := strings.Join(opts, ",")
	if len(data) >= os.Getpagesize() {
		return fmt.Errorf("%d lower directories: options of %d bytes exceed mount(2)'s page", len(lowers), len(data))
	}
	if err := unix.Mount("overlay", target, "overlay", flags, data); err != nil {
		return fmt.Errorf("mount: %w", err)
	}
	return nil
}

// escapeOverlayPath escapes the characters that separate overlayfs options
// (",") and lower directories (":") in mount(2) data.
func escapeOverlayPath(p string) string {
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`, `:`, `\:`).Replace(p)
}

// bindReadOnly bind-mounts source read-only at target.
func bindReadOnly(source, target string) error {
	if err := unix.Mount(source, target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind mount: %w", err)
	}
	if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		unix.Unmount(target, unix.MNT_DETACH)
		return fmt.Errorf("remounting read-only: %w", err)
	}
	return nil
}
