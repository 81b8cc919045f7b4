package layers

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/pgzip"
)

// Compression is the compression of a layer blob.
type Compression int

// The compressions a layer blob can have.
const (
	Gzip Compression = iota
	Zstd
	Uncompressed
)

// ErrUnknownCompression is returned by ParseCompression for a name it does
// not know.
var ErrUnknownCompression = errors.New("unknown compression")

// ParseCompression returns the Compression named s: "gzip", "zstd" or
// "uncompressed", the names buildx uses for its compression option.
func ParseCompression(s string) (Compression, error) {
	switch s {
	case "gzip":
		return Gzip, nil
	case "zstd":
		return Zstd, nil
	case "uncompressed":
		return Uncompressed, nil
	}
	return 0, fmt.Errorf("%w %q (want gzip, zstd or uncompressed)", ErrUnknownCompression, s)
}

// String returns the name ParseCompression accepts for c.
func (c Compression) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case Zstd:
		return "zstd"
	case Uncompressed:
		return "uncompressed"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// MediaType returns the OCI media type of a layer blob with compression c,
// or "" for a value that is not one of the constants.
func (c Compression) MediaType() types.MediaType {
	switch c {
	case Gzip:
		return types.OCILayer
	case Zstd:
		return types.OCILayerZStd
	case Uncompressed:
		return types.OCIUncompressedLayer
	}
	return ""
}

// Block size of the parallel gzip writer. pgzip compresses blocks of this
// size independently (each primed with the tail of the previous one), so the
// output depends on the block size but not on how many blocks run at once:
// keep it fixed for reproducible digests.
const gzipBlockSize = 1 << 20

// compressor returns a writer that compresses into w with c and must be
// closed to flush. Both compressors use every core: gzip via pgzip, zstd in
// frames encoded at once (zstdFrames). Neither lets the core count change the
// output bytes.
func (c Compression) compressor(w io.Writer) (io.WriteCloser, error) {
	return c.Writer(w, runtime.GOMAXPROCS(0))
}

// Writer is the compressor of layers with procs goroutines compressing at
// once; make bench measures the machine's compression limits with it.
func (c Compression) Writer(w io.Writer, procs int) (io.WriteCloser, error) {
	switch c {
	case Gzip:
		zw, err := pgzip.NewWriterLevel(w, pgzip.DefaultCompression)
		if err != nil {
			return nil, err
		}
		if err := zw.SetConcurrency(gzipBlockSize, 2*procs); err != nil {
			return nil, err
		}
		// No name and no time in the header: MTIME 0 means "none" (RFC
		// 1952). pgzip, unlike compress/gzip, writes a zero ModTime as
		// the low 32 bits of year 1's Unix time, a date in 2042.
		zw.ModTime = time.Unix(0, 0)
		return zw, nil
	case Zstd:
		return newZstdFrames(w, procs)
	case Uncompressed:
		return nopWriteCloser{w}, nil
	}
	return nil, fmt.Errorf("%w %v", ErrUnknownCompression, c)
}

// nopWriteCloser is an io.WriteCloser whose Close does nothing.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
