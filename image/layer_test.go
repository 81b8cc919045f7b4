package image

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestLayerUncompressed(t *testing.T) {
	entries := []entry{{name: "etc/", typ: '5'}, {name: "etc/hostname", body: "strata\n"}}
	tests := []struct {
		name   string
		mt     types.MediaType // label
		format types.MediaType // actual compression
	}{
		{"oci gzip", types.OCILayer, types.OCILayer},
		{"docker gzip", types.DockerLayer, types.DockerLayer},
		{"oci zstd", types.OCILayerZStd, types.OCILayerZStd},
		{"uncompressed", types.OCIUncompressedLayer, types.OCIUncompressedLayer},
		{"uncompressed labelled gzip", types.DockerLayer, types.OCIUncompressedLayer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			raw := tarBytes(t, entries)
			blob := compress(t, raw, tt.format)
			d := sha(t, blob)
			if err := s.Write(bytes.NewReader(blob), d); err != nil {
				t.Fatal(err)
			}
			var l v1.Layer = s.Layer(d, sha(t, raw), 0, tt.mt)

			rc, err := l.Uncompressed()
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, raw) {
				t.Fatalf("Uncompressed() = %d bytes, %v; want the %d-byte tar", len(got), err, len(raw))
			}
			rc, err = l.Compressed()
			if err != nil {
				t.Fatal(err)
			}
			got, err = io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, blob) {
				t.Fatalf("Compressed() = %d bytes, %v; want the %d-byte blob", len(got), err, len(blob))
			}
			if size, err := l.Size(); err != nil || size != int64(len(blob)) {
				t.Errorf("Size() = %d, %v; want %d", size, err, len(blob))
			}
			if mt, _ := l.MediaType(); mt != tt.mt {
				t.Errorf("MediaType() = %s, want %s", mt, tt.mt)
			}
		})
	}
}

func TestLayerUncompressedCorrupt(t *testing.T) {
	for _, mt := range []types.MediaType{types.OCILayer, types.OCILayerZStd, types.OCIUncompressedLayer} {
		t.Run(string(mt), func(t *testing.T) {
			s := openStore(t)
			l := storeLayer(t, s, mt, []entry{{name: "a", body: "aaaa"}})
			blob, err := os.ReadFile(s.Path(l.digest))
			if err != nil {
				t.Fatal(err)
			}
			// Append garbage: the decompressed tar is unchanged, so only
			// the digest check can notice.
			os.Chmod(s.Path(l.digest), 0o644)
			if err := os.WriteFile(s.Path(l.digest), append(blob, 0, 0, 0, 0), 0o644); err != nil {
				t.Fatal(err)
			}
			rc, err := l.Uncompressed()
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(rc)
			rc.Close()
			if !errors.Is(err, ErrDigestMismatch) {
				t.Errorf("Uncompressed() read = %v, want %v", err, ErrDigestMismatch)
			}
		})
	}
}
