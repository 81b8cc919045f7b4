package solver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sys/unix"

	"github.com/stratabuild/strata/image"
	"github.com/stratabuild/strata/layers"
)

// store is the build cache on disk:
//
//	blobs/sha256/<hex>   content store (image.Store): layer blobs, configs, manifests
//	layers/<diffid hex>/ a layer unpacked in overlay form, used as an overlay lower
//	layers/<diffid hex>.json  the layer's blobs, one per compression
//	layers/<diffid hex>.size  the unpacked layer's size (gc.go), as JSON
//	keys/<key hex>.json  a step's cache record: the layer it produced
//	images/<digest hex>.json  a base image pulled: its manifest, config and layers
//	context/<hash>/      a mirror of a build context minus ignored files
//	cachemounts/<hash>/  RUN --mount=type=cache directories (cachemount.go)
//	git/<hash>.git       bare repositories of git sources (git.go)
//	tmp/                 work in progress; renamed into place when complete
//	tmp/key-<key hex>.lock    held by the build running that step (lockStep)
//	runc/                runc's state of the RUN steps in progress
//	build.lock           held shared by every build, exclusively to clear and evict (stale.go, gc.go)
//
// What a build uses is remembered (use) and, when it ends, the files that
// say so get its time as their mtime (stampUsed): that is the last use the
// size cap evicts by (gc.go).
type store struct {
	dir   string
	blobs *image.Store

	mu   sync.Mutex
	used []string // files and directories used by the build, first use first
	seen map[string]bool
	// grew is set when the build added to the cache (a layer, a base
	// image, a changed context mirror); a build that ran no step and
	// added nothing need not check the size cap.
	grew atomic.Bool
}

func openStore(dir string) (*store, error) {
	for _, sub := range []string{"layers", "keys", "images", "context", "tmp", "runc"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("cache dir: %w", err)
		}
	}
	blobs, err := image.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("cache dir: %w", err)
	}
	return &store{dir: dir, blobs: blobs}, nil
}

// layer is a layer of a stage's filesystem: its unpacked directory is
// store.layerDir(DiffID) and its blob, once packed, is in the content store.
type layer struct {
	DiffID    v1.Hash         `json:"diffID"`
	Digest    v1.Hash         `json:"digest"`
	Size      int64           `json:"size"`
	MediaType types.MediaType `json:"mediaType"`
}

func (s *store) layerDir(diffID v1.Hash) string {
	return filepath.Join(s.dir, "layers", diffID.Hex)
}

func (s *store) hasLayerDir(diffID v1.Hash) bool {
	_, err := os.Stat(s.layerDir(diffID))
	return err == nil
}

// tempDir makes a fresh directory under tmp/ for work in progress.
func (s *store) tempDir(pattern string) (string, error) {
	return os.MkdirTemp(filepath.Join(s.dir, "tmp"), pattern)
}

// commitLayerDir moves a finished layer directory into place. If another
// build committed the same layer first, that copy wins and dir is removed.
func (s *store) commitLayerDir(dir string, diffID v1.Hash) error {
	dst := s.layerDir(diffID)
	// A layer never changes once in place: its size is measured once.
	if err := writeJSON(s, dst+".size", inodes{}.tree(dir)); err != nil {
		return fmt.Errorf("storing layer %s: %w", diffID, err)
	}
	s.grew.Store(true)
	if err := os.Rename(dir, dst); err != nil {
		if s.hasLayerDir(diffID) {
			return os.RemoveAll(dir)
		}
		return fmt.Errorf("storing layer %s: %w", diffID, err)
	}
	return nil
}

// blobRecord lists the blobs known for one layer.
type blobRecord struct {
	Blobs []layer `json:"blobs"`
}

func (s *store) blobRecordPath(diffID v1.Hash) string {
	return filepath.Join(s.dir, "layers", diffID.Hex+".json")
}

// recordBlob remembers that l's blob exists in the content store.
func (s *store) recordBlob(l layer) error {
	p := s.blobRecordPath(l.DiffID)
	s.use(p)
	var rec blobRecord
	_ = readJSON(p, &rec)
	for _, b := range rec.Blobs {
		if b.Digest == l.Digest {
			return nil
		}
	}
	rec.Blobs = append(rec.Blobs, l)
	return writeJSON(s, p, rec)
}

// imageRecord is what the cache keeps of a base image: the blobs of its
// manifest (and index) and config, and its layers, whose blobs the layers'
// blob records list.
type imageRecord struct {
	Ref      string    `json:"ref"`
	Manifest v1.Hash   `json:"manifest"`
	Index    *v1.Hash  `json:"index,omitempty"`
	Config   v1.Hash   `json:"config"`
	Layers   []v1.Hash `json:"layers"` // diff IDs, bottom first
}

// recordBase remembers a base image and the blobs of its layers, so that
// they are counted and evicted with it and with its layers.
func (s *store) recordBase(base *image.Base) error {
	rec := imageRecord{Ref: base.Ref, Manifest: base.Digest, Config: base.Manifest.Config.Digest}
	if base.Index != (v1.Hash{}) {
		rec.Index = &base.Index
	}
	for _, l := range base.Layers {
		diffID, err := l.DiffID()
		if err != nil {
			return err
		}
		d, err := l.Digest()
		if err != nil {
			return err
		}
		size, err := l.Size()
		if err != nil {
			return err
		}
		mt, err := l.MediaType()
		if err != nil {
			return err
		}
		rec.Layers = append(rec.Layers, diffID)
		if err := s.recordBlob(layer{DiffID: diffID, Digest: d, Size: size, MediaType: mt}); err != nil {
			return err
		}
	}
	p := filepath.Join(s.dir, "images", base.Digest.Hex+".json")
	s.use(p)
	var old imageRecord
	if readJSON(p, &old) == nil && old.Ref == rec.Ref && old.Config == rec.Config && len(old.Layers) == len(rec.Layers) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	s.grew.Store(true)
	return writeJSON(s, p, rec)
}

// findBlob returns a blob of diffID with media type mt, if one is stored.
func (s *store) findBlob(diffID v1.Hash, mt types.MediaType) (layer, bool) {
	var rec blobRecord
	if readJSON(filepath.Join(s.dir, "layers", diffID.Hex+".json"), &rec) != nil {
		return layer{}, false
	}
	for _, b := range rec.Blobs {
		if b.MediaType == mt && s.blobs.Has(b.Digest) {
			return b, true
		}
	}
	return layer{}, false
}

// keyRecord is what a step's cache key maps to.
type keyRecord struct {
	DiffID v1.Hash `json:"diffID"`
	// Created is when the step first ran; a cache hit reuses it, so a
	// rebuild with no change has the same history and digest, as in
	// BuildKit.
	Created time.Time `json:"created"`
	// Step is the step's history text, for strata cache du.
	Step string `json:"step,omitempty"`
}

func (s *store) keyPath(key v1.Hash) string {
	return filepath.Join(s.dir, "keys", key.Hex+".json")
}

// lookupKey finds the layer a step made. A record whose layer directory is
// gone (evicted, or never unpacked here) is a miss.
func (s *store) lookupKey(key v1.Hash) (keyRecord, bool) {
	var rec keyRecord
	p := s.keyPath(key)
	if readJSON(p, &rec) != nil {
		return rec, false
	}
	if rec.DiffID.Hex == "" || !s.hasLayerDir(rec.DiffID) {
		return rec, false
	}
	s.use(p, s.blobRecordPath(rec.DiffID))
	return rec, true
}

func (s *store) saveKey(key v1.Hash, rec keyRecord) error {
	p := s.keyPath(key)
	s.use(p)
	return writeJSON(s, p, rec)
}

// lockStep takes the lock of the step with cache key key, waiting while
// another build runs that step, until ctx ends. The lock files are in tmp/,
// which is emptied only when no build runs.
func (s *store) lockStep(ctx context.Context, key v1.Hash) (unlock func(), err error) {
	unlock, err = flockWait(ctx, filepath.Join(s.dir, "tmp", "key-"+key.Hex+".lock"), unix.LOCK_EX)
	if err != nil {
		return nil, fmt.Errorf("waiting for the same step in another build: %w", err)
	}
	return unlock, nil
}

// use notes that the build used the cache entries of paths (record files,
// or directories that have none).
func (s *store) use(paths ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	for _, p := range paths {
		if !s.seen[p] {
			s.seen[p] = true
			s.used = append(s.used, p)
		}
	}
}

// stampUsed gives what the build used the time end as its mtime, the
// first used the latest: within one build, what came first (a base, a
// step's parent) is evicted last, so a cached step never outlives the
// steps it was built on.
func (s *store) stampUsed(end time.Time) {
	s.mu.Lock()
	used := s.used
	s.used, s.seen = nil, nil
	s.mu.Unlock()
	for i, p := range used {
		t := end.Add(-time.Duration(i) * time.Microsecond)
		_ = os.Chtimes(p, t, t)
	}
}

// packLayer makes (or finds) the blob of the layer in dir with compression c.
func (s *store) packLayer(dir string, c layers.Compression) (layer, error) {
	w, err := s.blobs.WriteTemp()
	if err != nil {
		return layer{}, err
	}
	b, err := layers.Pack(w, dir, c)
	if err != nil {
		w.Abort()
		return layer{}, fmt.Errorf("packing layer: %w", err)
	}
	if err := w.Commit(b.Digest); err != nil {
		return layer{}, err
	}
	l := layer{DiffID: b.DiffID, Digest: b.Digest, Size: b.Size, MediaType: b.MediaType}
	return l, nil
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// writeJSON writes v to path atomically.
func writeJSON(s *store, path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeFileAtomic(s, path, data)
}

// writeFileAtomic writes data to path through a temporary file and a
// rename.
func writeFileAtomic(s *store, path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "write-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		os.Remove(f.Name())
		return err
	}
	return nil
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
