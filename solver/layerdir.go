package solver

import (
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/stratabuild/strata/image"
	"github.com/stratabuild/strata/layers"
)

// Layers are materialised on demand. A stage's layer is known by its
// digests from the start (from a base image's manifest or a cache record,
// local or imported), but its blob and its unpacked directory are only
// made when something needs them: a step that executes over the layer
// needs its directory as an overlay lower, and an export needs its blob.
// A build whose steps all hit the cache thus downloads and unpacks nothing
// it does not output, and a push of such a build to the registry its
// layers came from mounts them there without touching the disk.
//
// sources maps a blob digest to a v1.Layer that can fetch it (see
// image.RemoteLayer and image.LayoutLayer) when the content store lacks it.

// addSource records where the blob of l can be fetched from, unless a
// source is known already.
func (b *Builder) addSource(l v1.Layer) error {
	d, err := l.Digest()
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.sources[d]; !ok {
		b.sources[d] = l
	}
	return nil
}

// imageLayer is l as a v1.Layer for an image: its source when one is known
// (which reads the blob from the store once fetched, and keeps it mountable
// from its registry), else the blob in the content store.
func (b *Builder) imageLayer(l layer) v1.Layer {
	b.mu.Lock()
	src, ok := b.sources[l.Digest]
	b.mu.Unlock()
	if ok {
		return src
	}
	return b.store.blobs.Layer(l.Digest, l.DiffID, l.Size, l.MediaType)
}

// lowerDirs lists the stage's layer directories topmost first, as overlay
// wants them, unpacking the layers that are not unpacked yet.
func (b *Builder) lowerDirs(st *stageState) ([]string, error) {
	if st.mirror != nil {
		return []string{st.mirror.dir}, nil
	}
	dirs := make([]string, 0, len(st.layers))
	for i := len(st.layers) - 1; i >= 0; i-- {
		if err := b.ensureLayerDir(st.layers[i]); err != nil {
			return nil, err
		}
		dirs = append(dirs, b.store.layerDir(st.layers[i].DiffID))
	}
	return dirs, nil
}

// ensureLayerDir unpacks l unless its directory exists; concurrent calls for
// one layer unpack it once.
func (b *Builder) ensureLayerDir(l layer) error {
	if b.store.hasLayerDir(l.DiffID) {
		return nil
	}
	_, err, _ := b.unpacks.Do(l.DiffID.Hex, func() (any, error) {
		if b.store.hasLayerDir(l.DiffID) {
			return nil, nil
		}
		return nil, b.unpackLayer(b.imageLayer(l), l.DiffID)
	})
	return err
}

// unpackLayer unpacks l into its layer directory, checking that its content
// is the diff ID.
func (b *Builder) unpackLayer(l v1.Layer, diffID v1.Hash) error {
	tmp, err := b.store.tempDir("unpack-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, "layer")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	h := sha256.New()
	if err := layers.Unpack(io.TeeReader(rc, h), dir); err != nil {
		return fmt.Errorf("unpacking layer %s: %w", diffID, err)
	}
	if got := fmt.Sprintf("%x", h.Sum(nil)); got != diffID.Hex {
		return fmt.Errorf("layer %s: content has diff ID sha256:%s", diffID, got)
	}
	return b.store.commitLayerDir(dir, diffID)
}

// baseLayers registers the sources of a base image's layers and records
// the image in the cache (for strata cache du and eviction).
func (b *Builder) baseLayers(base *image.Base) error {
	for _, l := range base.Layers {
		if err := b.addSource(l); err != nil {
			return err
		}
	}
	return b.store.recordBase(base)
}
