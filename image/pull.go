package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// ErrNoMatchingPlatform is wrapped by Pull's error when an image index has
// no manifest for the requested platform.
var ErrNoMatchingPlatform = errors.New("no manifest for the platform")

// Base is a pulled image whose manifest, config and layers are all in the
// Store.
type Base struct {
	// Ref is the fully qualified reference that was pulled, such as
	// index.docker.io/library/busybox:latest.
	Ref string
	// Digest is the digest of the image manifest actually pulled: for an
	// index, the manifest chosen for the platform.
	Digest v1.Hash
	// Index is the digest of the index the manifest was chosen from, or
	// the zero Hash if the reference named a manifest directly.
	Index v1.Hash
	// Manifest is the image manifest.
	Manifest *v1.Manifest
	// Config is the image configuration.
	Config *v1.ConfigFile
	// Layers are the image's layers, bottom first. With WithLazyLayers,
	// those not yet in the store are fetched when first read.
	Layers []v1.Layer
}

// Pull resolves ref (a tag or digest reference, as docker understands it)
// against its registry and makes sure the image's manifest, config and
// layers are in the store given with WithStore. The manifest is always
// asked of the registry (unless ref is a digest already in the store), but
// blobs already present are never downloaded again. Missing layers are
// downloaded concurrently and each is verified against its digest before it
// enters the store. An image index is resolved to the manifest for the
// platform set with WithPlatform.
//
// A missing image gives an error wrapping ErrNotFound; an unreachable
// registry one that names the registry and wraps ErrUnreachable and the
// network error.
func Pull(ctx context.Context, ref string, opts ...Option) (*Base, error) {
	o := makeOptions(opts)
	b, err := o.pull(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("pulling %s: %w", ref, err)
	}
	return b, nil
}

// Resolve returns the digest of the image manifest that Pull would fetch
// for ref (for an index, the manifest for the platform set with
// WithPlatform) without downloading any blob or writing to a store. A
// digest reference to an index is resolved from the store given with
// WithStore if the index is there. Errors are those of Pull.
func Resolve(ctx context.Context, ref string, opts ...Option) (v1.Hash, error) {
	o := makeOptions(opts)
	h, err := o.resolve(ctx, ref)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("resolving %s: %w", ref, err)
	}
	return h, nil
}

func (o *options) resolve(ctx context.Context, ref string) (v1.Hash, error) {
	r, err := o.parse(ref)
	if err != nil {
		return v1.Hash{}, err
	}
	var raw []byte
	var digest v1.Hash
	if d, ok := r.(name.Digest); ok && o.store != nil {
		if h, err := v1.NewHash(d.DigestStr()); err == nil && o.store.Has(h) {
			if raw, err = o.store.ReadAll(h); err != nil {
				raw = nil
			}
			digest = h
		}
	}
	if raw == nil {
		desc, err := remote.Get(r, o.remote(ctx)...)
		if err != nil {
			return v1.Hash{}, retriedError(r.Context().RegistryStr(), err)
		}
		raw, digest = desc.Manifest, desc.Digest
	}
	index, err := isIndex(raw)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("parsing manifest %s: %w", digest, err)
	}
	if !index {
		return digest, nil
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return v1.Hash{}, fmt.Errorf("parsing index %s: %w", digest, err)
	}
	child, err := o.choose(im)
	if err != nil {
		return v1.Hash{}, err
	}
	return child.Digest, nil
}

// isIndex tells an index from an image manifest by its media type or, for
// documents without one, by the presence of a manifests list.
func isIndex(raw []byte) (bool, error) {
	var probe struct {
		MediaType types.MediaType `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return false, err
	}
	if probe.MediaType != "" {
		return probe.MediaType.IsIndex(), nil
	}
	return probe.Manifests != nil, nil
}

func (o *options) pull(ctx context.Context, ref string) (*Base, error) {
	if o.store == nil {
		return nil, errors.New("no store given (image.WithStore)")
	}
	r, err := o.parse(ref)
	if err != nil {
		return nil, err
	}
	registry := r.Context().RegistryStr()

	// A digest names immutable content: if everything is here, the
	// registry has nothing to add.
	if d, ok := r.(name.Digest); ok {
		if h, err := v1.NewHash(d.DigestStr()); err == nil && o.store.Has(h) {
			if b, err := o.fromStore(r.Name(), h); err == nil {
				o.emit(Event{Kind: EventResolved, Ref: b.Ref, Digest: b.Digest})
				return b, nil
			}
		}
	}

	desc, err := remote.Get(r, o.remote(ctx)...)
	if err != nil {
		return nil, retriedError(registry, err)
	}
	if err := o.store.Write(bytes.NewReader(desc.Manifest), desc.Digest); err != nil {
		return nil, err
	}

	var (
		img    v1.Image
		index  v1.Hash
		digest = desc.Digest
	)
	switch {
	case desc.MediaType.IsIndex():
		index = desc.Digest
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, retriedError(registry, err)
		}
		im, err := v1.ParseIndexManifest(bytes.NewReader(desc.Manifest))
		if err != nil {
			return nil, fmt.Errorf("parsing index %s: %w", desc.Digest, err)
		}
		child, err := o.choose(im)
		if err != nil {
			return nil, err
		}
		digest = child.Digest
		if img, err = idx.Image(child.Digest); err != nil {
			return nil, retriedError(registry, err)
		}
		raw, err := img.RawManifest()
		if err != nil {
			return nil, retriedError(registry, err)
		}
		if err := o.store.Write(bytes.NewReader(raw), child.Digest); err != nil {
			return nil, err
		}
	case desc.MediaType.IsImage():
		if img, err = desc.Image(); err != nil {
			return nil, retriedError(registry, err)
		}
	default:
		return nil, fmt.Errorf("unsupported manifest media type %q", desc.MediaType)
	}
	o.emit(Event{Kind: EventResolved, Ref: r.Name(), Digest: digest})

	m, err := o.readManifest(digest)
	if err != nil {
		return nil, err
	}
	if !o.store.Has(m.Config.Digest) {
		raw, err := img.RawConfigFile()
		if err != nil {
			return nil, fmt.Errorf("fetching config: %w", retriedError(registry, err))
		}
		if err := o.store.Write(bytes.NewReader(raw), m.Config.Digest); err != nil {
			return nil, fmt.Errorf("fetching config: %w", err)
		}
	}
	if o.lazy == nil {
		if err := o.fetchLayers(ctx, registry, img, m); err != nil {
			return nil, err
		}
	}
	return o.base(r.Name(), index, digest)
}

// choose picks the manifest for o.platform from an index.
func (o *options) choose(im *v1.IndexManifest) (v1.Descriptor, error) {
	var have []string
	for _, d := range im.Manifests {
		if d.Platform == nil || !d.MediaType.IsImage() {
			continue
		}
		if d.Platform.Satisfies(o.platform) {
			return d, nil
		}
		have = append(have, d.Platform.String())
	}
	return v1.Descriptor{}, fmt.Errorf("%w %s (the index has: %s)", ErrNoMatchingPlatform, o.platform.String(), strings.Join(have, ", "))
}

// fromStore builds the Base for the manifest or index digest from the
// store alone, failing if anything is missing.
func (o *options) fromStore(ref string, digest v1.Hash) (*Base, error) {
	raw, err := o.store.ReadAll(digest)
	if err != nil {
		return nil, err
	}
	index, err := isIndex(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing manifest %s: %w", digest, err)
	}
	if !index {
		return o.base(ref, v1.Hash{}, digest)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing index %s: %w", digest, err)
	}
	child, err := o.choose(im)
	if err != nil {
		return nil, err
	}
	return o.base(ref, digest, child.Digest)
}

// readManifest reads and checks the image manifest digest from the store.
func (o *options) readManifest(digest v1.Hash) (*v1.Manifest, error) {
	raw, err := o.store.ReadAll(digest)
	if err != nil {
		return nil, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing manifest %s: %w", digest, err)
	}
	switch m.Config.MediaType {
	case types.OCIConfigJSON, types.DockerConfigJSON, "":
	default:
		return nil, fmt.Errorf("manifest %s is not a container image (config media type %q)", digest, m.Config.MediaType)
	}
	for _, l := range m.Layers {
		if !isLayerMediaType(l.MediaType) {
			return nil, fmt.Errorf("manifest %s: layer %s has unsupported media type %q", digest, l.Digest, l.MediaType)
		}
	}
	return m, nil
}

// isLayerMediaType reports whether mt is a layer type strata can unpack.
func isLayerMediaType(mt types.MediaType) bool {
	switch mt {
	case types.DockerLayer, types.DockerUncompressedLayer, types.DockerForeignLayer,
		types.OCILayer, types.OCILayerZStd, types.OCIUncompressedLayer,
		types.OCIRestrictedLayer, types.OCIUncompressedRestrictedLayer:
		return true
	}
	return false
}

// base assembles a Base from the manifest digest, whose config must be in
// the store, and its layers too unless o.lazy: then the missing ones are
// fetched from ref's repository when read.
func (o *options) base(ref string, index, digest v1.Hash) (*Base, error) {
	m, err := o.readManifest(digest)
	if err != nil {
		return nil, err
	}
	raw, err := o.store.ReadAll(m.Config.Digest)
	if err != nil {
		return nil, err
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing config %s: %w", m.Config.Digest, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("manifest %s lists %d layers but its config %d diff_ids", digest, len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	b := &Base{Ref: ref, Digest: digest, Index: index, Manifest: m, Config: cfg}
	for i, l := range m.Layers {
		switch {
		case o.store.Has(l.Digest):
			b.Layers = append(b.Layers, o.store.Layer(l.Digest, cfg.RootFS.DiffIDs[i], l.Size, l.MediaType))
		case o.lazy != nil:
			r, err := o.parse(ref)
			if err != nil {
				return nil, err
			}
			d := r.Context().Digest(l.Digest.String())
			b.Layers = append(b.Layers, o.remoteLayer(o.lazy, d, l, cfg.RootFS.DiffIDs[i]))
		default:
			return nil, fmt.Errorf("layer %s is not in the store", l.Digest)
		}
	}
	return b, nil
}

// fetchLayers downloads the layers of m that the store lacks, o.jobs at a
// time.
func (o *options) fetchLayers(ctx context.Context, registry string, img v1.Image, m *v1.Manifest) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.jobs)
	seen := map[v1.Hash]bool{}
	for _, d := range m.Layers {
		if seen[d.Digest] {
			continue
		}
		seen[d.Digest] = true
		if o.store.Has(d.Digest) {
			o.emit(Event{Kind: EventLayerCached, Digest: d.Digest, Total: d.Size})
			continue
		}
		g.Go(func() error {
			if err := o.fetchLayer(gctx, registry, img, d); err != nil {
				return fmt.Errorf("fetching layer %s: %w", d.Digest, exhausted(err))
			}
			return nil
		})
	}
	return g.Wait()
}

func (o *options) fetchLayer(ctx context.Context, registry string, img v1.Image, d v1.Descriptor) error {
	return o.fetchBlob(ctx, registry, d, func() (io.ReadCloser, error) {
		l, err := img.LayerByDigest(d.Digest)
		if err != nil {
			return nil, err
		}
		return l.Compressed()
	})
}

// ctxReader stops reading once ctx is done, so that a failed download
// cancels its siblings promptly.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
