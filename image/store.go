package image

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// ErrDigestMismatch is wrapped by the errors returned when content does not
// hash to the digest it was stored or announced under.
var ErrDigestMismatch = errors.New("digest mismatch")

// staleTemp is how old a file in the store's tmp directory must be before
// Open removes it as the leftover of a crashed writer.
const staleTemp = 24 * time.Hour

// Store is a content-addressed blob store in a directory, laid out like the
// blobs of an OCI image layout: a blob with digest sha256:<hex> lives at
// <dir>/blobs/sha256/<hex>. Blobs are written to <dir>/tmp first and renamed
// into place once their digest has been checked, so a reader never sees a
// partial blob and two processes may fill the same store at once. Blobs are
// verified again whenever they are read through Open.
//
// Only sha256 digests are supported.
type Store struct {
	dir string
}

// Open opens the store in dir, creating the directory layout if needed.
// Temporary files older than a day, left behind by writers that crashed,
// are removed.
func Open(dir string) (*Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", dir, err)
	}
	s := &Store{dir: abs}
	for _, d := range []string{s.blobDir(), s.tmpDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("opening store %s: %w", dir, err)
		}
	}
	s.removeStaleTemps()
	return s, nil
}

// Dir returns the store's root directory.
func (s *Store) Dir() string { return s.dir }

func (s *Store) blobDir() string { return filepath.Join(s.dir, "blobs", "sha256") }
func (s *Store) tmpDir() string  { return filepath.Join(s.dir, "tmp") }

func (s *Store) removeStaleTemps() {
	entries, err := os.ReadDir(s.tmpDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err == nil && time.Since(info.ModTime()) > staleTemp {
			_ = os.Remove(filepath.Join(s.tmpDir(), e.Name()))
		}
	}
}

// validHash reports whether h is a well-formed sha256 digest, which also
// guarantees that its hex part is safe to use as a file name.
func validHash(h v1.Hash) bool {
	if h.Algorithm != "sha256" || len(h.Hex) != 64 {
		return false
	}
	for _, c := range h.Hex {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

func checkHash(h v1.Hash) error {
	if !validHash(h) {
		return fmt.Errorf("unsupported digest %q: want sha256:<64 lowercase hex>", h.String())
	}
	return nil
}

// Path returns the file that holds the blob h, whether or not it is
// present. It returns "" for a digest that is not a well-formed sha256.
func (s *Store) Path(h v1.Hash) string {
	if !validHash(h) {
		return ""
	}
	return filepath.Join(s.blobDir(), h.Hex)
}

// Has reports whether the blob h is present. It does not verify the blob's
// content; Open does that while reading.
func (s *Store) Has(h v1.Hash) bool {
	p := s.Path(h)
	if p == "" {
		return false
	}
	info, err := os.Stat(p)
	return err == nil && info.Mode().IsRegular()
}

// Size returns the size in bytes of the stored blob h.
func (s *Store) Size(h v1.Hash) (int64, error) {
	if err := checkHash(h); err != nil {
		return 0, err
	}
	info, err := os.Stat(s.Path(h))
	if err != nil {
		return 0, fmt.Errorf("blob %s: %w", h, err)
	}
	return info.Size(), nil
}

// Open opens the blob h for reading. The returned reader hashes what it
// reads and, at the end of the blob, returns an error wrapping
// ErrDigestMismatch instead of io.EOF if the content does not match h; the
// corrupt blob is then removed from the store so that it is fetched again
// next time. A missing blob gives an error wrapping fs.ErrNotExist.
func (s *Store) Open(h v1.Hash) (io.ReadCloser, error) {
	if err := checkHash(h); err != nil {
		return nil, err
	}
	f, err := os.Open(s.Path(h))
	if err != nil {
		return nil, fmt.Errorf("opening blob %s: %w", h, err)
	}
	return &verifyingReader{f: f, h: sha256.New(), want: h, store: s}, nil
}

// verifyingReader checks the digest of a stored blob at its end.
type verifyingReader struct {
	f     *os.File
	h     hash.Hash
	want  v1.Hash
	store *Store
	err   error // sticky result once the end was reached
}

func (r *verifyingReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.f.Read(p)
	r.h.Write(p[:n])
	if err == io.EOF {
		got := hex.EncodeToString(r.h.Sum(nil))
		if got != r.want.Hex {
			r.store.discard(r.want, r.f)
			err = fmt.Errorf("reading blob %s: %w: content hashes to sha256:%s", r.want, ErrDigestMismatch, got)
		}
		r.err = err
	} else if err != nil {
		err = fmt.Errorf("reading blob %s: %w", r.want, err)
	}
	return n, err
}

func (r *verifyingReader) Close() error { return r.f.Close() }

// discard removes the corrupt blob h, but only if the file at its path is
// still the one that was read (another process may have replaced it).
func (s *Store) discard(h v1.Hash, f *os.File) {
	read, err1 := f.Stat()
	now, err2 := os.Stat(s.Path(h))
	if err1 == nil && err2 == nil && os.SameFile(read, now) {
		_ = os.Remove(s.Path(h))
	}
}

// ReadAll returns the whole content of the (small) blob h, verified.
func (s *Store) ReadAll(h v1.Hash) ([]byte, error) {
	rc, err := s.Open(h)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// Write stores the content of r as the blob expected. The content is
// hashed while it is written and the blob is committed only if it matches;
// otherwise the error wraps ErrDigestMismatch and nothing is stored. If the
// blob is already present, r is not read.
func (s *Store) Write(r io.Reader, expected v1.Hash) error {
	if err := checkHash(expected); err != nil {
		return err
	}
	if s.Has(expected) {
		return nil
	}
	w, err := s.WriteTemp()
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Abort()
		return fmt.Errorf("writing blob %s: %w", expected, err)
	}
	return w.Commit(expected)
}

// WriteJSON stores v, encoded as JSON, as a blob and returns its digest and
// size. It is meant for small records such as manifests or cache entries.
func (s *Store) WriteJSON(v any) (v1.Hash, int64, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return v1.Hash{}, 0, fmt.Errorf("encoding record: %w", err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		return v1.Hash{}, 0, err
	}
	if err := s.Write(bytes.NewReader(b), h); err != nil {
		return v1.Hash{}, 0, err
	}
	return h, int64(len(b)), nil
}

// ReadJSON decodes the blob h, verified, into v.
func (s *Store) ReadJSON(h v1.Hash, v any) error {
	b, err := s.ReadAll(h)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decoding blob %s: %w", h, err)
	}
	return nil
}

// Remove deletes the blob h. Removing a missing blob is not an error.
func (s *Store) Remove(h v1.Hash) error {
	if err := checkHash(h); err != nil {
		return err
	}
	if err := os.Remove(s.Path(h)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing blob %s: %w", h, err)
	}
	return nil
}

// BlobInfo describes a stored blob, for callers that enforce a size cap.
type BlobInfo struct {
	Digest  v1.Hash
	Size    int64
	ModTime time.Time
}

// Walk calls fn for every blob in the store, in no particular order. Files
// that are not named like sha256 blobs are skipped. An error from fn stops
// the walk and is returned.
func (s *Store) Walk(fn func(BlobInfo) error) error {
	entries, err := os.ReadDir(s.blobDir())
	if err != nil {
		return fmt.Errorf("listing blobs: %w", err)
	}
	for _, e := range entries {
		h := v1.Hash{Algorithm: "sha256", Hex: e.Name()}
		if !validHash(h) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile
		}
		if err != nil {
			return fmt.Errorf("listing blobs: %w", err)
		}
		if err := fn(BlobInfo{Digest: h, Size: info.Size(), ModTime: info.ModTime()}); err != nil {
			return err
		}
	}
	return nil
}

// BlobWriter writes one blob into a temporary file of a Store. It hashes
// what it is given; Commit checks the digest and moves the file into place,
// Abort throws it away. One of the two must be called.
type BlobWriter struct {
	store *Store
	f     *os.File
	h     hash.Hash
	n     int64
	done  bool
}

// WriteTemp starts a new blob in the store's tmp directory. Use it when the
// digest is only known once everything has been written, for example while
// compressing a layer.
func (s *Store) WriteTemp() (*BlobWriter, error) {
	f, err := os.CreateTemp(s.tmpDir(), "blob-")
	if err != nil {
		return nil, fmt.Errorf("creating temporary blob: %w", err)
	}
	return &BlobWriter{store: s, f: f, h: sha256.New()}, nil
}

// Write appends p to the blob.
func (w *BlobWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, errors.New("writing blob: writer already committed or aborted")
	}
	n, err := w.f.Write(p)
	w.h.Write(p[:n])
	w.n += int64(n)
	if err != nil {
		return n, fmt.Errorf("writing blob: %w", err)
	}
	return n, nil
}

// Digest returns the sha256 digest of what has been written so far.
func (w *BlobWriter) Digest() v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(w.h.Sum(nil))}
}

// Size returns the number of bytes written so far.
func (w *BlobWriter) Size() int64 { return w.n }

// Commit stores the written content as the blob h. If the content does not
// hash to h, the temporary file is removed and the error wraps
// ErrDigestMismatch. If the blob is already present (another writer got
// there first), the existing blob is kept.
func (w *BlobWriter) Commit(h v1.Hash) error {
	if w.done {
		return errors.New("committing blob: writer already committed or aborted")
	}
	defer w.Abort()
	if err := checkHash(h); err != nil {
		return err
	}
	if got := w.Digest(); got != h {
		return fmt.Errorf("committing blob %s: %w: content hashes to %s", h, ErrDigestMismatch, got)
	}
	if err := w.f.Chmod(0o444); err != nil {
		return fmt.Errorf("committing blob %s: %w", h, err)
	}
	if err := w.f.Close(); err != nil {
		return fmt.Errorf("committing blob %s: %w", h, err)
	}
	if w.store.Has(h) {
		return nil
	}
	if err := os.Rename(w.f.Name(), w.store.Path(h)); err != nil {
		return fmt.Errorf("committing blob %s: %w", h, err)
	}
	return nil
}

// Abort discards the temporary file. It is safe to call more than once and
// after Commit, so it can be deferred.
func (w *BlobWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	_ = w.f.Close()
	_ = os.Remove(w.f.Name())
}
