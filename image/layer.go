package image

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
)

// Layer is an image layer whose compressed blob lives in a Store. It
// implements v1.Layer; every read of it is verified against its digest.
type Layer struct {
	digest    v1.Hash
	diffID    v1.Hash
	size      int64
	mediaType types.MediaType
	store     *Store
}

var _ v1.Layer = Layer{}

// Layer returns the layer stored as blob digest, whose uncompressed tar has
// the digest diffID. size is the blob's size in bytes (0 means: ask the
// store) and mt its media type as listed in a manifest.
func (s *Store) Layer(digest, diffID v1.Hash, size int64, mt types.MediaType) Layer {
	return Layer{digest: digest, diffID: diffID, size: size, mediaType: mt, store: s}
}

// Digest returns the digest of the compressed blob.
func (l Layer) Digest() (v1.Hash, error) { return l.digest, nil }

// DiffID returns the digest of the uncompressed tar.
func (l Layer) DiffID() (v1.Hash, error) { return l.diffID, nil }

// Size returns the size of the compressed blob.
func (l Layer) Size() (int64, error) {
	if l.size > 0 {
		return l.size, nil
	}
	return l.store.Size(l.digest)
}

// MediaType returns the media type the layer was listed with.
func (l Layer) MediaType() (types.MediaType, error) { return l.mediaType, nil }

// Compressed opens the blob as stored, verifying its digest at the end.
func (l Layer) Compressed() (io.ReadCloser, error) {
	return l.store.Open(l.digest)
}

// Uncompressed opens the layer as a tar stream. The compression is
// recognised by the blob's first bytes (gzip, zstd or none) rather than by
// the media type alone, because some images label uncompressed layers as
// gzip. The compressed blob is still verified against its digest when the
// stream reaches its end.
func (l Layer) Uncompressed() (io.ReadCloser, error) {
	rc, err := l.store.Open(l.digest)
	if err != nil {
		return nil, err
	}
	return decompress(rc)
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// decompress wraps rc with the decompressor its first bytes call for.
// Closing the result closes rc.
func decompress(rc io.ReadCloser) (io.ReadCloser, error) {
	br := bufio.NewReaderSize(rc, 64<<10)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF {
		rc.Close()
		return nil, fmt.Errorf("reading layer: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := pgzip.NewReader(br)
		if err != nil {
			rc.Close()
			return nil, fmt.Errorf("reading gzip layer: %w", err)
		}
		return &drainCloser{Reader: zr, closeFn: func() error { zr.Close(); return rc.Close() }, inner: br}, nil
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(br)
		if err != nil {
			rc.Close()
			return nil, fmt.Errorf("reading zstd layer: %w", err)
		}
		return &drainCloser{Reader: zr, closeFn: func() error { zr.Close(); return rc.Close() }, inner: br}, nil
	default:
		return &drainCloser{Reader: br, closeFn: rc.Close}, nil
	}
}

// drainCloser is a decompressing reader that, once the decompressed stream
// ends, reads the rest of the compressed input so that the verifying reader
// underneath reaches its end and checks the digest: a tar reader stops at
// the end-of-archive marker, and a decompressor may stop before trailing
// bytes.
type drainCloser struct {
	io.Reader
	inner   io.Reader // the compressed stream, nil when not compressed
	closeFn func() error
}

func (d *drainCloser) Read(p []byte) (int, error) {
	n, err := d.Reader.Read(p)
	if err != nil && d.inner != nil {
		// At the end, or when the decompressor chokes (often because the
		// blob is corrupt), let the digest check have its say: a digest
		// mismatch explains more than "invalid input".
		_, derr := io.Copy(io.Discard, d.inner)
		d.inner = nil
		if derr != nil && (err == io.EOF || errors.Is(derr, ErrDigestMismatch)) {
			err = derr
		}
	}
	return n, err
}

func (d *drainCloser) Close() error { return d.closeFn() }
