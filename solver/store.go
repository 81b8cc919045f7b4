package solver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/stratabuild/strata/image"
	"github.com/stratabuild/strata/layers"
)

// store is the build cache on disk:
//
//	blobs/sha256/<hex>   content store (image.Store): layer blobs, configs, manifests
//	layers/<diffid hex>/ a layer unpacked in overlay form, used as an overlay lower
//	layers/<diffid hex>.json  the layer's blobs, one per compression
//	keys/<key hex>.json  a step's cache record: the layer it produced
//	context/<hash>/      a mirror of a build context minus ignored files
//	tmp/                 work in progress; renamed into place when complete
type store struct {
	dir   string
	blobs *image.Store
}

func openStore(dir string) (*store, error) {
	for _, sub := range []string{"layers", "keys", "context", "tmp", "runc"} {
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

// recordBlob remembers that l's blob exists in the content store.
func (s *store) recordBlob(l layer) error {
	p := filepath.Join(s.dir, "layers", l.DiffID.Hex+".json")
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
}

func (s *store) lookupKey(key v1.Hash) (keyRecord, bool) {
	var rec keyRecord
	if readJSON(filepath.Join(s.dir, "keys", key.Hex+".json"), &rec) != nil {
		return rec, false
	}
	if rec.DiffID.Hex == "" || !s.hasLayerDir(rec.DiffID) {
		return rec, false
	}
	return rec, true
}

func (s *store) saveKey(key v1.Hash, rec keyRecord) error {
	return writeJSON(s, filepath.Join(s.dir, "keys", key.Hex+".json"), rec)
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
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "json-*")
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
