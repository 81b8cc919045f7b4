package layers

import (
	"errors"
	"strings"

	"golang.org/x/sys/unix"
)

// The two ways a deletion is spelled. In a layer directory (overlayfs upper
// format) a deleted path is a 0/0 character device and an opaque directory
// carries an xattr; in a layer tar (the OCI and Docker format) both are
// empty regular files recognised by name.
const (
	// whiteoutPrefix starts the tar name of a deleted path: ".wh.<name>".
	whiteoutPrefix = ".wh."
	// whiteoutMetaPrefix starts names reserved for metadata of the aufs
	// era, such as ".wh..wh.plnk"; only whiteoutOpaque has a meaning here.
	whiteoutMetaPrefix = whiteoutPrefix + whiteoutPrefix
	// whiteoutOpaque marks its directory as opaque in a tar.
	whiteoutOpaque = whiteoutMetaPrefix + ".opq"

	// opaqueXattr marks an opaque directory in a layer directory.
	opaqueXattr = "trusted.overlay.opaque"
	// opaqueUserXattr is the same mark made by an overlay mounted with
	// "userxattr" (rootless); it is read but never written.
	opaqueUserXattr = "user.overlay.opaque"
)

// isWhiteoutDevice reports whether a stat result describes an overlayfs
// whiteout: a character device with device number 0/0.
func isWhiteoutDevice(st *unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && st.Rdev == 0
}

// isOverlayXattr reports whether an xattr is overlayfs's private
// bookkeeping (opaque, redirect, origin, metacopy, ...). Such xattrs are
// never written to a tar and never restored from one: deletions travel as
// ".wh." names, and anything else overlay-specific read from an untrusted
// tar could steer lookups into other layers.
func isOverlayXattr(name string) bool {
	return strings.HasPrefix(name, "trusted.overlay.") || strings.HasPrefix(name, "user.overlay.")
}

// xattrReader lists and reads the xattrs of paths without following
// symlinks, reusing its buffers between calls.
type xattrReader struct {
	names []byte
	value []byte
}

// read returns the xattrs of path as name, value pairs in the order the
// filesystem lists them. A filesystem without xattr support yields none.
func (x *xattrReader) read(path string) ([][2]string, error) {
	if x.names == nil {
		x.names = make([]byte, 1024)
	}
	var n int
	for {
		var err error
		n, err = unix.Llistxattr(path, x.names)
		if errors.Is(err, unix.ERANGE) {
			size, err := unix.Llistxattr(path, nil)
			if err != nil {
				return nil, err
			}
			x.names = make([]byte, size*2)
			continue
		}
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		break
	}
	if n == 0 {
		return nil, nil
	}
	var out [][2]string
	for _, name := range strings.Split(string(x.names[:n]), "\x00") {
		if name == "" {
			continue
		}
		value, err := x.get(path, name)
		if errors.Is(err, unix.ENODATA) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, err
		}
		out = append(out, [2]string{name, value})
	}
	return out, nil
}

// get reads one xattr of path without following a final symlink.
func (x *xattrReader) get(path, name string) (string, error) {
	if x.value == nil {
		x.value = make([]byte, 1024)
	}
	for {
		n, err := unix.Lgetxattr(path, name, x.value)
		if errors.Is(err, unix.ERANGE) {
			size, err := unix.Lgetxattr(path, name, nil)
			if err != nil {
				return "", err
			}
			x.value = make([]byte, size*2)
			continue
		}
		if err != nil {
			return "", err
		}
		return string(x.value[:n]), nil
	}
}

// isOpaque reports whether the xattrs of a directory mark it opaque.
func isOpaque(xattrs [][2]string) bool {
	for _, kv := range xattrs {
		if (kv[0] == opaqueXattr || kv[0] == opaqueUserXattr) && kv[1] == "y" {
			return true
		}
	}
	return false
}
