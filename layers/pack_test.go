package layers

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"
	"github.com/klauspost/pgzip"
)

func TestParseCompression(t *testing.T) {
	tests := []struct {
		in        string
		want      Compression
		mediaType types.MediaType
		wantErr   bool
	}{
		{in: "gzip", want: Gzip, mediaType: types.OCILayer},
		{in: "zstd", want: Zstd, mediaType: types.OCILayerZStd},
		{in: "uncompressed", want: Uncompressed, mediaType: types.OCIUncompressedLayer},
		{in: "GZIP", wantErr: true},
		{in: "estargz", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseCompression(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrUnknownCompression) {
					t.Fatalf("ParseCompression(%q) = %v, %v, want ErrUnknownCompression", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseCompression(%q) = %v, %v, want %v", tt.in, got, err, tt.want)
			}
			if got.String() != tt.in {
				t.Errorf("%v.String() = %q, want %q", got, got.String(), tt.in)
			}
			if mt := got.MediaType(); mt != tt.mediaType {
				t.Errorf("%v.MediaType() = %q, want %q", got, mt, tt.mediaType)
			}
		})
	}
}

// decompress undoes compression c.
func decompress(t testing.TB, c Compression, data []byte) []byte {
	t.Helper()
	var r io.Reader = bytes.NewReader(data)
	switch c {
	case Gzip:
		zr, err := pgzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	case Zstd:
		zr, err := zstd.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decompressing %v: %v", c, err)
	}
	return out
}

func sha256Of(data []byte) v1.Hash {
	sum := sha256.Sum256(data)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

func TestPack(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, []node{
		{path: "etc", kind: 'd', mode: 0o755},
		{path: "etc/motd", kind: 'f', mode: 0o644, data: strings.Repeat("welcome to strata\n", 1000)},
		{path: "etc/rand", kind: 'f', mode: 0o644, data: string(randomBytes(3 << 20))},
		{path: "lib", kind: 'l', data: "usr/lib"},
	})
	tarBytes := writeTar(t, dir)
	for _, c := range []Compression{Gzip, Zstd, Uncompressed} {
		t.Run(c.String(), func(t *testing.T) {
			var out bytes.Buffer
			blob, err := Pack(&out, dir, c)
			if err != nil {
				t.Fatalf("Pack(%v) = %v", c, err)
			}
			if want := sha256Of(tarBytes); blob.DiffID != want {
				t.Errorf("Pack(%v).DiffID = %v, want sha256 of WriteTar %v", c, blob.DiffID, want)
			}
			if want := sha256Of(out.Bytes()); blob.Digest != want {
				t.Errorf("Pack(%v).Digest = %v, want sha256 of output %v", c, blob.Digest, want)
			}
			if blob.Size != int64(out.Len()) {
				t.Errorf("Pack(%v).Size = %d, want %d", c, blob.Size, out.Len())
			}
			if blob.MediaType != c.MediaType() {
				t.Errorf("Pack(%v).MediaType = %q, want %q", c, blob.MediaType, c.MediaType())
			}
			if got := decompress(t, c, out.Bytes()); !bytes.Equal(got, tarBytes) {
				t.Errorf("Pack(%v) decompressed differs from WriteTar (%d vs %d bytes)", c, len(got), len(tarBytes))
			}
			if c == Uncompressed && blob.Digest != blob.DiffID {
				t.Errorf("Pack(uncompressed): Digest %v != DiffID %v", blob.Digest, blob.DiffID)
			}
			if c != Uncompressed && out.Len() >= len(tarBytes) {
				t.Errorf("Pack(%v) wrote %d bytes for a %d byte tar", c, out.Len(), len(tarBytes))
			}

			var again bytes.Buffer
			blob2, err := Pack(&again, dir, c)
			if err != nil || blob2 != blob {
				t.Errorf("Pack(%v) again = %+v, %v, want %+v", c, blob2, err, blob)
			}
		})
	}
}

// TestCompressorProcs checks that the number of compressing goroutines
// does not change the compressed bytes, so that digests are the same on
// machines with different core counts.
func TestCompressorProcs(t *testing.T) {
	data := append(randomBytes(3<<20), bytes.Repeat([]byte("layer "), 1<<20)...)
	for _, c := range []Compression{Gzip, Zstd} {
		t.Run(c.String(), func(t *testing.T) {
			var outs [][]byte
			for _, procs := range []int{1, 2, 8} {
				var buf bytes.Buffer
				zw, err := c.Writer(&buf, procs)
				if err != nil {
					t.Fatal(err)
				}
				// Uneven writes, as a tar writer makes them.
				for rest := data; len(rest) > 0; {
					n := min(len(rest), 7919+len(rest)%65536)
					if _, err := zw.Write(rest[:n]); err != nil {
						t.Fatal(err)
					}
					rest = rest[n:]
				}
				if err := zw.Close(); err != nil {
					t.Fatal(err)
				}
				outs = append(outs, buf.Bytes())
			}
			for i := 1; i < len(outs); i++ {
				if !bytes.Equal(outs[0], outs[i]) {
					t.Errorf("%v output differs between concurrency settings (%d vs %d bytes)", c, len(outs[0]), len(outs[i]))
				}
			}
		})
	}
}

func TestPackErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Pack(io.Discard, filepath.Join(dir, "missing"), Gzip); err == nil {
		t.Error("Pack(missing dir) = nil error")
	}
	if _, err := Pack(io.Discard, dir, Compression(42)); !errors.Is(err, ErrUnknownCompression) {
		t.Errorf("Pack(Compression(42)) = %v, want ErrUnknownCompression", err)
	}
	makeTree(t, dir, []node{{path: "f", kind: 'f', mode: 0o644, data: string(randomBytes(1 << 20))}})
	errWrite := errors.New("disk full")
	for _, c := range []Compression{Gzip, Zstd, Uncompressed} {
		if _, err := Pack(failingWriter{errWrite}, dir, c); !errors.Is(err, errWrite) {
			t.Errorf("Pack(%v) to a failing writer = %v, want %v", c, err, errWrite)
		}
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// randomBytes returns n bytes that do not compress, the same every run.
func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// makeBenchTree fills dir with about files files totalling about size
// bytes of text that compresses roughly 3:1, like binaries and libraries
// in a real layer, and returns the total.
func makeBenchTree(b *testing.B, dir string, files int, size int) int64 {
	b.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	words := make([]string, 512)
	for i := range words {
		w := make([]byte, 3+r.IntN(8))
		for j := range w {
			w[j] = byte('a' + r.IntN(26))
		}
		words[i] = string(w)
	}
	var total int64
	per := size / files
	var buf bytes.Buffer
	for i := range files {
		sub := filepath.Join(dir, fmt.Sprintf("d%02d", i%40))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		buf.Reset()
		n := per/2 + r.IntN(per)
		for buf.Len() < n {
			if r.IntN(8) == 0 {
				fmt.Fprintf(&buf, "%08x", r.Uint32())
			} else {
				buf.WriteString(words[r.IntN(len(words))])
			}
			buf.WriteByte(" \n"[r.IntN(2)])
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%04d", i)), buf.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(buf.Len())
	}
	return total
}

// BenchmarkPack packs about 2000 files and 50 MB; MB/s is of tar input.
func BenchmarkPack(b *testing.B) {
	dir := b.TempDir()
	total := makeBenchTree(b, dir, 2000, 50<<20)
	for _, c := range []Compression{Gzip, Zstd, Uncompressed} {
		b.Run(c.String(), func(b *testing.B) {
			b.SetBytes(total)
			var blob Blob
			for b.Loop() {
				var err error
				blob, err = Pack(io.Discard, dir, c)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(blob.Size)/float64(total), "ratio")
		})
	}
}

// TestGzipHeader: a gzip layer's header carries no time, no file name and
// no comment, and names no operating system (RFC 1952: MTIME 0, OS 255).
func TestGzipHeader(t *testing.T) {
	dir := t.TempDir()
	makeTree(t, dir, []node{{path: "a", kind: 'f', mode: 0o644, data: "a"}})
	var out bytes.Buffer
	if _, err := Pack(&out, dir, Gzip); err != nil {
		t.Fatal(err)
	}
	h := out.Bytes()[:10]
	if h[0] != 0x1f || h[1] != 0x8b || h[2] != 8 {
		t.Fatalf("gzip header = % x, want a deflate gzip member", h)
	}
	if flags := h[3]; flags != 0 {
		t.Errorf("gzip FLG = %#x, want 0 (no name, comment or extra field)", flags)
	}
	if mtime := binary.LittleEndian.Uint32(h[4:8]); mtime != 0 {
		t.Errorf("gzip MTIME = %d (%v), want 0", mtime, time.Unix(int64(mtime), 0).UTC())
	}
	if h[9] != 255 {
		t.Errorf("gzip OS = %d, want 255 (unknown)", h[9])
	}
	zr, err := pgzip.NewReader(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if zr.Name != "" || zr.Comment != "" || zr.ModTime.Unix() != 0 {
		t.Errorf("gzip header read back = name %q, comment %q, time %v; want none", zr.Name, zr.Comment, zr.ModTime)
	}
}
