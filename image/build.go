package image

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// New assembles an OCI image (manifest media type
// application/vnd.oci.image.manifest.v1+json, config
// application/vnd.oci.image.config.v1+json) from a finished config and its
// layers, bottom first. The caller fills cfg.RootFS.DiffIDs and
// cfg.History; New checks that the diff_ids are the layers' DiffIDs, in
// order, and that the history has one entry without empty_layer per layer.
// cfg is not modified.
//
// The config and manifest are serialised once, here, so the image's digest
// is fixed and the bytes that are exported or pushed are the ones it names.
// Layers with Docker media types are listed with the equivalent OCI types
// (the blobs are the same). The config keeps Docker's fields such as
// Healthcheck, OnBuild, Shell and StopSignal.
func New(cfg *v1.ConfigFile, layers []v1.Layer) (v1.Image, error) {
	img, err := build(cfg, layers)
	if err != nil {
		return nil, fmt.Errorf("building image: %w", err)
	}
	return img, nil
}

func build(cfg *v1.ConfigFile, layers []v1.Layer) (v1.Image, error) {
	if cfg == nil {
		return nil, errors.New("no config")
	}
	if n := len(cfg.RootFS.DiffIDs); n != len(layers) {
		return nil, fmt.Errorf("config lists %d diff_ids for %d layers", n, len(layers))
	}
	nonEmpty := 0
	for _, h := range cfg.History {
		if !h.EmptyLayer {
			nonEmpty++
		}
	}
	if nonEmpty != len(layers) {
		return nil, fmt.Errorf("config history has %d entries that add a layer, want one per layer (%d)", nonEmpty, len(layers))
	}

	c := cfg.DeepCopy()
	if c.RootFS.Type == "" {
		c.RootFS.Type = "layers"
	}
	rawConfig, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	descs := make([]v1.Descriptor, 0, len(layers))
	listed := make([]v1.Layer, 0, len(layers))
	for i, l := range layers {
		desc, err := layerDescriptor(l)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		diffID, err := l.DiffID()
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		if diffID != c.RootFS.DiffIDs[i] {
			return nil, fmt.Errorf("layer %d has diff_id %s but the config lists %s", i, diffID, c.RootFS.DiffIDs[i])
		}
		if mt, _ := l.MediaType(); mt != desc.MediaType {
			l = retype(l, desc.MediaType)
		}
		descs = append(descs, desc)
		listed = append(listed, l)
	}
	return newBuilt(types.OCIConfigJSON, rawConfig, descs, listed)
}

// newBuilt makes the OCI image manifest of a config of media type
// configType, rawConfig, and of layers, which descs describe.
func newBuilt(configType types.MediaType, rawConfig []byte, descs []v1.Descriptor, layers []v1.Layer) (v1.Image, error) {
	cfgDigest, cfgSize, err := v1.SHA256(bytes.NewReader(rawConfig))
	if err != nil {
		return nil, err
	}
	b := &built{rawConfig: rawConfig, cfgDigest: cfgDigest, layers: map[v1.Hash]v1.Layer{}, order: layers}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		Config:        v1.Descriptor{MediaType: configType, Size: cfgSize, Digest: cfgDigest},
		Layers:        descs,
	}
	for i, l := range layers {
		b.layers[descs[i].Digest] = l
	}
	if b.rawManifest, err = json.Marshal(m); err != nil {
		return nil, fmt.Errorf("encoding manifest: %w", err)
	}
	return b.image()
}

// layerDescriptor describes l as a manifest lists it in an OCI image.
func layerDescriptor(l v1.Layer) (v1.Descriptor, error) {
	d, err := l.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	size, err := l.Size()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, err := l.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	oci, err := ociLayerType(mt)
	if err != nil {
		return v1.Descriptor{}, err
	}
	return v1.Descriptor{MediaType: oci, Size: size, Digest: d}, nil
}

// ociLayerType maps a layer media type to its OCI equivalent.
func ociLayerType(mt types.MediaType) (types.MediaType, error) {
	switch mt {
	case types.DockerLayer:
		return types.OCILayer, nil
	case types.DockerUncompressedLayer:
		return types.OCIUncompressedLayer, nil
	case types.DockerForeignLayer:
		return types.OCIRestrictedLayer, nil
	case types.OCILayer, types.OCILayerZStd, types.OCIUncompressedLayer,
		types.OCIRestrictedLayer, types.OCIUncompressedRestrictedLayer:
		return mt, nil
	}
	return "", fmt.Errorf("unsupported layer media type %q", mt)
}

// built is an image whose config and manifest bytes are fixed; see New.
type built struct {
	rawConfig   []byte
	cfgDigest   v1.Hash
	rawManifest []byte
	layers      map[v1.Hash]v1.Layer
	order       []v1.Layer // as the manifest lists them
}

// image makes b a v1.Image whose layers are the ones it was given, not
// wrappers: go-containerregistry's partial package wraps every layer, which
// hides a *remote.MountableLayer from remote.Write, and so a layer that
// could be mounted from another repository would be downloaded and
// uploaded instead.
func (b *built) image() (v1.Image, error) {
	img, err := partial.CompressedToImage(b)
	if err != nil {
		return nil, err
	}
	return &builtImage{Image: img, b: b}, nil
}

type builtImage struct {
	v1.Image
	b *built
}

func (i *builtImage) Layers() ([]v1.Layer, error) { return slices.Clone(i.b.order), nil }

func (i *builtImage) LayerByDigest(h v1.Hash) (v1.Layer, error) {
	if l, ok := i.b.layers[h]; ok {
		return l, nil
	}
	return i.Image.LayerByDigest(h)
}

var _ partial.CompressedImageCore = (*built)(nil)

func (b *built) RawConfigFile() ([]byte, error)      { return b.rawConfig, nil }
func (b *built) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }
func (b *built) RawManifest() ([]byte, error)        { return b.rawManifest, nil }

func (b *built) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if l, ok := b.layers[h]; ok {
		return l, nil
	}
	if h == b.cfgDigest {
		return partial.ConfigLayer(b)
	}
	return nil, fmt.Errorf("image has no blob %s", h)
}

// retypedLayer is a layer listed under another media type than its own.
type retypedLayer struct {
	v1.Layer
	mediaType types.MediaType
}

func (r *retypedLayer) MediaType() (types.MediaType, error) { return r.mediaType, nil }
