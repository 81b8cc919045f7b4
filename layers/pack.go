package layers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Blob describes a layer blob written by Pack.
type Blob struct {
	// DiffID is the sha256 of the uncompressed tar.
	DiffID v1.Hash
	// Digest is the sha256 of the compressed bytes written.
	Digest v1.Hash
	// Size is the number of compressed bytes written.
	Size int64
	// MediaType is the OCI media type of the blob.
	MediaType types.MediaType
}

// Pack writes dir, a layer directory, to w as a layer blob: the tar of
// WriteTar compressed with c. The diff ID and the digest are computed as the
// bytes stream by, in one pass, without a temporary copy and without holding
// the layer in memory. Nothing is buffered past the return, but w may have
// received part of a blob when Pack fails.
func Pack(w io.Writer, dir string, c Compression, opts ...TarOption) (Blob, error) {
	out := &countingHasher{w: w, h: sha256.New()}
	zw, err := c.compressor(out)
	if err != nil {
		return Blob{}, fmt.Errorf("packing %s: %w", dir, err)
	}
	diff := sha256.New()
	if err := WriteTar(io.MultiWriter(zw, diff), dir, opts...); err != nil {
		zw.Close()
		return Blob{}, fmt.Errorf("packing %s: %w", dir, err)
	}
	if err := zw.Close(); err != nil {
		return Blob{}, fmt.Errorf("packing %s: compressing: %w", dir, err)
	}
	return Blob{
		DiffID:    sha256Hash(diff),
		Digest:    sha256Hash(out.h),
		Size:      out.n,
		MediaType: c.MediaType(),
	}, nil
}

// countingHasher passes writes on to w, hashing and counting them.
type countingHasher struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (c *countingHasher) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.h.Write(p[:n])
	c.n += int64(n)
	return n, err
}

// sha256Hash returns the v1.Hash of the bytes written to h.
func sha256Hash(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}
