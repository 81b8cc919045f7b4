package image

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// An artifact is an OCI image manifest whose config is not an image config
// but a document of its own media type (a build cache, say), with layers
// that are blobs of any kind. Plain registries store it like any image:
// the manifest media type is the standard one, so a registry that refuses
// unknown manifest types (or BuildKit's index-based cache format) takes
// it, and it can be copied with skopeo or crane.

// maxArtifactConfig bounds the config document FetchArtifact reads.
const maxArtifactConfig = 64 << 20

// NewArtifact assembles an artifact whose config, of media type configType,
// is rawConfig, and whose layers are blobs, listed in order with their own
// media types and the annotations given for their digests.
func NewArtifact(configType types.MediaType, rawConfig []byte, blobs []v1.Layer, annotations map[v1.Hash]map[string]string) (v1.Image, error) {
	descs := make([]v1.Descriptor, 0, len(blobs))
	seen := map[v1.Hash]bool{}
	for i, l := range blobs {
		d, err := l.Digest()
		if err != nil {
			return nil, fmt.Errorf("blob %d: %w", i, err)
		}
		if seen[d] {
			return nil, fmt.Errorf("blob %s is listed twice", d)
		}
		seen[d] = true
		size, err := l.Size()
		if err != nil {
			return nil, fmt.Errorf("blob %s: %w", d, err)
		}
		mt, err := l.MediaType()
		if err != nil {
			return nil, fmt.Errorf("blob %s: %w", d, err)
		}
		descs = append(descs, v1.Descriptor{MediaType: mt, Size: size, Digest: d, Annotations: annotations[d]})
	}
	return newBuilt(configType, rawConfig, descs, blobs)
}

// Artifact is an artifact read from a registry or an OCI layout: its
// manifest and config. Blob returns its blobs as lazy layers (see
// RemoteLayer and LayoutLayer).
type Artifact struct {
	Manifest *v1.Manifest
	Config   []byte
	blob     func(d v1.Descriptor, diffID v1.Hash) v1.Layer
	exists   func(ctx context.Context, d v1.Descriptor) (bool, error)
	store    *Store
	jobs     int
}

// Blob returns the blob d of the artifact as a layer kept in the store the
// artifact was fetched with, read from its origin when first needed. diffID
// is the digest of the blob's uncompressed content, if it is a layer.
func (a *Artifact) Blob(d v1.Descriptor, diffID v1.Hash) v1.Layer { return a.blob(d, diffID) }

// Missing returns the blobs of ds that are neither in the store nor at the
// artifact's origin (a registry asked with HEAD requests, several at once,
// or the layout's directory). Nothing is downloaded. An origin that cannot
// say (unreachable, access denied) is an error.
func (a *Artifact) Missing(ctx context.Context, ds []v1.Descriptor) ([]v1.Hash, error) {
	var (
		mu      sync.Mutex
		missing []v1.Hash
		first   error
		wg      sync.WaitGroup
	)
	sem := make(chan struct{}, max(a.jobs, 1))
	for _, d := range ds {
		if a.store != nil && a.store.Has(d.Digest) {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok, err := a.exists(ctx, d)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil && first == nil:
				first = fmt.Errorf("blob %s: %w", d.Digest, err)
			case err == nil && !ok:
				missing = append(missing, d.Digest)
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	slices.SortFunc(missing, func(x, y v1.Hash) int { return strings.Compare(x.String(), y.String()) })
	return missing, nil
}

// FetchArtifact reads the manifest and the config of the artifact ref from
// its registry; the config must have the media type configType. A missing
// artifact gives an error wrapping ErrNotFound.
func FetchArtifact(ctx context.Context, ref string, configType types.MediaType, opts ...Option) (*Artifact, error) {
	o := makeOptions(opts)
	if o.store == nil {
		return nil, errors.New("no store given (image.WithStore)")
	}
	r, err := o.parse(ref)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	registry := r.Context().RegistryStr()
	desc, err := remote.Get(r, o.remote(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, retriedError(registry, err))
	}
	m, err := artifactManifest(desc.MediaType, desc.Manifest, configType)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	cfgRef := r.Context().Digest(m.Config.Digest.String())
	l, err := remote.Layer(cfgRef, o.remote(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", ref, retriedError(registry, err))
	}
	rc, err := l.Compressed() // verified against the digest by ggcr
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", ref, retriedError(registry, err))
	}
	defer rc.Close()
	raw, err := readConfig(rc, m.Config)
	if err != nil {
		return nil, fmt.Errorf("%s: config: %w", ref, retriedError(registry, err))
	}
	// One puller for every HEAD of Missing, so that they share a token.
	puller, err := remote.NewPuller(o.remote(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return &Artifact{Manifest: m, Config: raw, store: o.store, jobs: o.jobs,
		blob: func(d v1.Descriptor, diffID v1.Hash) v1.Layer {
			return o.remoteLayer(ctx, r.Context().Digest(d.Digest.String()), d, diffID)
		},
		exists: func(ctx context.Context, d v1.Descriptor) (bool, error) {
			l, err := puller.Layer(ctx, r.Context().Digest(d.Digest.String()))
			if err != nil {
				return false, retriedError(registry, err)
			}
			ok, err := partial.Exists(l.(*remote.MountableLayer).Layer)
			if err != nil {
				return false, retriedError(registry, err)
			}
			return ok, nil
		}}, nil
}

// ReadLayoutArtifact reads the artifact an OCI image layout in dir lists
// first in its index.json (as WriteOCI writes it); its blobs are copied
// into store when first read.
func ReadLayoutArtifact(dir string, configType types.MediaType, store *Store) (*Artifact, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: index.json: %w", dir, err)
	}
	if len(idx.Manifests) == 0 {
		return nil, fmt.Errorf("OCI layout %s: %w: index.json lists no manifest", dir, ErrNotFound)
	}
	d := idx.Manifests[0]
	rawManifest, err := readLayoutBlob(dir, d, 4<<20)
	if err != nil {
		return nil, err
	}
	m, err := artifactManifest(d.MediaType, rawManifest, configType)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	cfg, err := readLayoutBlob(dir, m.Config, maxArtifactConfig)
	if err != nil {
		return nil, err
	}
	return &Artifact{Manifest: m, Config: cfg, store: store, jobs: 1,
		blob: func(d v1.Descriptor, diffID v1.Hash) v1.Layer {
			return LayoutLayer(dir, d, diffID, store)
		},
		exists: func(_ context.Context, d v1.Descriptor) (bool, error) {
			p, err := layoutBlobPath(dir, d.Digest)
			if err != nil {
				return false, err
			}
			switch _, err := os.Stat(p); {
			case err == nil:
				return true, nil
			case errors.Is(err, fs.ErrNotExist):
				return false, nil
			default:
				return false, err
			}
		}}, nil
}

// readLayoutBlob reads the small blob d of the layout in dir, verified.
func readLayoutBlob(dir string, d v1.Descriptor, limit int64) ([]byte, error) {
	p, err := layoutBlobPath(dir, d.Digest)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	defer f.Close()
	if d.Size > limit {
		return nil, fmt.Errorf("OCI layout %s: blob %s is %d bytes, more than the %d allowed", dir, d.Digest, d.Size, limit)
	}
	raw, err := readConfig(f, d)
	if err != nil {
		return nil, fmt.Errorf("OCI layout %s: %w", dir, err)
	}
	return raw, nil
}

// readConfig reads the blob d from r, checking its size and digest.
func readConfig(r io.Reader, d v1.Descriptor) ([]byte, error) {
	if d.Size > maxArtifactConfig {
		return nil, fmt.Errorf("blob %s is %d bytes, more than the %d allowed", d.Digest, d.Size, maxArtifactConfig)
	}
	raw, err := io.ReadAll(io.LimitReader(r, d.Size+1))
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) != d.Size {
		return nil, fmt.Errorf("blob %s has %d bytes, the manifest says %d", d.Digest, len(raw), d.Size)
	}
	h, _, _ := v1.SHA256(bytes.NewReader(raw))
	if h != d.Digest {
		return nil, fmt.Errorf("blob %s: %w: content hashes to %s", d.Digest, ErrDigestMismatch, h)
	}
	return raw, nil
}

// artifactManifest parses raw as an image manifest whose config has the
// media type configType.
func artifactManifest(mt types.MediaType, raw []byte, configType types.MediaType) (*v1.Manifest, error) {
	if mt.IsIndex() {
		return nil, fmt.Errorf("is an image index, not a %s artifact", configType)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("parsing manifest: %w", err)
	}
	if m.Config.MediaType != configType {
		return nil, fmt.Errorf("is not a %s artifact (its config has media type %q)", configType, m.Config.MediaType)
	}
	return m, nil
}
