package image

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestStoreWrite(t *testing.T) {
	content := []byte("hello blob")
	good := sha(t, content)
	tests := []struct {
		name     string
		expected v1.Hash
		wantErr  error // nil: success
		badHash  bool
	}{
		{name: "matching digest", expected: good},
		{name: "other digest", expected: sha(t, []byte("other")), wantErr: ErrDigestMismatch},
		{name: "not sha256", expected: v1.Hash{Algorithm: "sha512", Hex: good.Hex}, badHash: true},
		{name: "path traversal", expected: v1.Hash{Algorithm: "sha256", Hex: "../../../etc/passwd"}, badHash: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			err := s.Write(bytes.NewReader(content), tt.expected)
			switch {
			case tt.badHash:
				if err == nil {
					t.Fatalf("Write(%q) = nil, want an error", tt.expected)
				}
				if s.Path(tt.expected) != "" || s.Has(tt.expected) {
					t.Errorf("Path/Has accept the malformed digest %q", tt.expected)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Write() = %v, want %v", err, tt.wantErr)
				}
				if s.Has(tt.expected) {
					t.Errorf("Has(%s) = true after a failed write", tt.expected)
				}
			default:
				if err != nil {
					t.Fatalf("Write() = %v", err)
				}
				got, err := s.ReadAll(tt.expected)
				if err != nil || !bytes.Equal(got, content) {
					t.Fatalf("ReadAll() = %q, %v; want %q", got, err, content)
				}
			}
			assertNoTemps(t, s)
		})
	}
}

func assertNoTemps(t *testing.T, s *Store) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.Dir(), "tmp"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("tmp holds %d leftover files", len(entries))
	}
}

func TestStoreDetectsCorruption(t *testing.T) {
	s := openStore(t)
	content := []byte(strings.Repeat("layer data ", 1000))
	h := sha(t, content)
	if err := s.Write(bytes.NewReader(content), h); err != nil {
		t.Fatal(err)
	}
	// Flip one byte behind the store's back.
	corrupt := bytes.Clone(content)
	corrupt[500] ^= 0xff
	if err := os.Chmod(s.Path(h), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Path(h), corrupt, 0o644); err != nil {
		t.Fatal(err)
	}
	rc, err := s.Open(h)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(rc)
	rc.Close()
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("reading a corrupt blob: err = %v, want %v", err, ErrDigestMismatch)
	}
	if s.Has(h) {
		t.Errorf("Has(%s) = true: the corrupt blob should have been removed", h)
	}
	// And it can be written again.
	if err := s.Write(bytes.NewReader(content), h); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadAll(h); err != nil {
		t.Errorf("ReadAll() after rewrite = %v", err)
	}
}

func TestStoreOpenMissing(t *testing.T) {
	s := openStore(t)
	_, err := s.Open(sha(t, []byte("absent")))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestBlobWriter(t *testing.T) {
	content := []byte("packed layer")
	tests := []struct {
		name    string
		finish  func(w *BlobWriter) error
		present bool
		wantErr error
	}{
		{name: "commit own digest", finish: func(w *BlobWriter) error { return w.Commit(w.Digest()) }, present: true},
		{name: "commit wrong digest", finish: func(w *BlobWriter) error { return w.Commit(sha(t, []byte("x"))) }, wantErr: ErrDigestMismatch},
		{name: "abort", finish: func(w *BlobWriter) error { w.Abort(); return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			w, err := s.WriteTemp()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(content); err != nil {
				t.Fatal(err)
			}
			if w.Size() != int64(len(content)) || w.Digest() != sha(t, content) {
				t.Errorf("Size(), Digest() = %d, %s; want %d, %s", w.Size(), w.Digest(), len(content), sha(t, content))
			}
			if err := tt.finish(w); !errors.Is(err, tt.wantErr) {
				t.Fatalf("finish = %v, want %v", err, tt.wantErr)
			}
			w.Abort() // always safe
			if got := s.Has(sha(t, content)); got != tt.present {
				t.Errorf("Has() = %v, want %v", got, tt.present)
			}
			assertNoTemps(t, s)
		})
	}
}

// TestStoreConcurrentWriters has many writers race to store the same blob,
// some with wrong content; readers must only ever see the right content.
func TestStoreConcurrentWriters(t *testing.T) {
	s := openStore(t)
	// Two handles on one directory, as two processes would have.
	s2, err := Open(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	content := bytes.Repeat([]byte("0123456789"), 100000)
	h := sha(t, content)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := s
			if i%2 == 1 {
				st = s2
			}
			if i%5 == 0 {
				bad := bytes.Clone(content)
				bad[i] ^= 1
				if err := st.Write(bytes.NewReader(bad), h); err != nil && !errors.Is(err, ErrDigestMismatch) {
					errs <- err
				}
				return
			}
			if err := st.Write(bytes.NewReader(content), h); err != nil {
				errs <- err
			}
			if got, err := st.ReadAll(h); err != nil || !bytes.Equal(got, content) {
				errs <- errors.New("reader saw wrong content")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	assertNoTemps(t, s)
}

func TestStoreJSONAndWalk(t *testing.T) {
	s := openStore(t)
	type record struct {
		Key    string   `json:"key"`
		Layers []string `json:"layers"`
	}
	in := record{Key: "k1", Layers: []string{"a", "b"}}
	h, size, err := s.WriteJSON(in)
	if err != nil {
		t.Fatal(err)
	}
	var out record
	if err := s.ReadJSON(h, &out); err != nil {
		t.Fatal(err)
	}
	if out.Key != in.Key || len(out.Layers) != 2 {
		t.Errorf("ReadJSON() = %+v, want %+v", out, in)
	}
	var seen []BlobInfo
	if err := s.Walk(func(b BlobInfo) error { seen = append(seen, b); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0].Digest != h || seen[0].Size != size {
		t.Errorf("Walk() saw %+v, want one blob %s of %d bytes", seen, h, size)
	}
	if err := s.Remove(h); err != nil {
		t.Fatal(err)
	}
	if s.Has(h) {
		t.Errorf("Has() after Remove = true")
	}
	if err := s.Remove(h); err != nil {
		t.Errorf("Remove(missing) = %v, want nil", err)
	}
}
