// Package layers owns filesystem snapshots and their tar form: overlay
// mounts over unpacked layer directories, the diff of a step as an OCI
// layer tar (whiteouts, hardlinks, xattrs, sorted entries), compression with
// digests computed while streaming, and the safe unpacking of layer tars.
//
// A layer directory holds one layer in overlayfs "upper" format: a deleted
// path is a 0/0 character device and an opaque directory carries the
// trusted.overlay.opaque=y xattr. Such a directory can be used directly as an
// overlay lower or upper.
//
// layers must not import solver, frontend or image.
package layers
