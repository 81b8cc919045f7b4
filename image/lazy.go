package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// lazyLayer is a layer whose blob may not be in the store yet: the first
// read fetches it, verified, into the store, and every read is then served
// from the store. A layer that is never read is never fetched.
type lazyLayer struct {
	Layer
	mu    sync.Mutex
	fetch func() error // fills the store with the blob
}

func (l *lazyLayer) ensure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store.Has(l.digest) {
		return nil
	}
	return l.fetch()
}

// Compressed fetches the blob if needed and opens it, verified.
func (l *lazyLayer) Compressed() (io.ReadCloser, error) {
	if err := l.ensure(); err != nil {
		return nil, err
	}
	return l.Layer.Compressed()
}

// Uncompressed fetches the blob if needed and opens it as a tar stream.
func (l *lazyLayer) Uncompressed() (io.ReadCloser, error) {
	if err := l.ensure(); err != nil {
		return nil, err
	}
	return l.Layer.Uncompressed()
}

// RemoteLayer returns the layer desc of the repository repo (such as
// 127.0.0.1:5000/team/app) as a v1.Layer kept in the store given with
// WithStore. Nothing is downloaded until the layer is read; then the blob is
// downloaded once, checked against its digest and size, and stored. Pushing
// the layer to another repository of the same registry mounts the blob
// there instead of uploading it, and pushing it where it already is costs
// one request: a layer that only passes from registry to registry never
// touches the disk. ctx bounds the download.
func RemoteLayer(ctx context.Context, repo string, desc v1.Descriptor, diffID v1.Hash, opts ...Option) (v1.Layer, error) {
	o := makeOptions(opts)
	if o.store == nil {
		return nil, fmt.Errorf("layer %s: no store given (image.WithStore)", desc.Digest)
	}
	ref, err := o.parse(repo + "@" + desc.Digest.String())
	if err != nil {
		return nil, fmt.Errorf("layer %s of %s: %w", desc.Digest, repo, err)
	}
	return o.remoteLayer(ctx, ref.(name.Digest), desc, diffID), nil
}

func (o *options) remoteLayer(ctx context.Context, ref name.Digest, desc v1.Descriptor, diffID v1.Hash) v1.Layer {
	registry := ref.Context().RegistryStr()
	l := &lazyLayer{Layer: o.store.Layer(desc.Digest, diffID, desc.Size, desc.MediaType)}
	l.fetch = func() error {
		rl, err := remote.Layer(ref, o.remote(ctx)...)
		if err != nil {
			err = retriedError(registry, err)
		} else {
			err = o.fetchBlob(ctx, registry, desc, rl.Compressed)
		}
		if errors.Is(err, ErrNotFound) {
			// Say which blob is gone, not that an "image" is.
			return fmt.Errorf("fetching layer %s: %s no longer has it (deleted from the registry?)", desc.Digest, ref.Context())
		}
		if err != nil {
			return fmt.Errorf("fetching layer %s: %w", desc.Digest, err)
		}
		return nil
	}
	return &remote.MountableLayer{Layer: l, Reference: ref}
}

// LayoutLayer returns the layer desc of the OCI image layout in dir as a
// v1.Layer kept in store: the blob is copied into the store, verified, the
// first time the layer is read.
func LayoutLayer(dir string, desc v1.Descriptor, diffID v1.Hash, store *Store) v1.Layer {
	l := &lazyLayer{Layer: store.Layer(desc.Digest, diffID, desc.Size, desc.MediaType)}
	l.fetch = func() error {
		p, err := layoutBlobPath(dir, desc.Digest)
		if err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("layer %s of %s: %w", desc.Digest, dir, err)
		}
		defer f.Close()
		if err := store.Write(io.LimitReader(f, desc.Size), desc.Digest); err != nil {
			return fmt.Errorf("layer %s of %s: %w", desc.Digest, dir, err)
		}
		return nil
	}
	return l
}

// layoutBlobPath is where an OCI image layout keeps the blob h.
func layoutBlobPath(dir string, h v1.Hash) (string, error) {
	if err := checkHash(h); err != nil {
		return "", err
	}
	return filepath.Join(dir, "blobs", h.Algorithm, h.Hex), nil
}

// fetchBlob downloads the blob d, opened by open, into the store, and
// fails if the registry sends more or less than d.Size.
func (o *options) fetchBlob(ctx context.Context, registry string, d v1.Descriptor, open func() (io.ReadCloser, error)) error {
	rc, err := open()
	if err != nil {
		return retriedError(registry, err)
	}
	defer rc.Close()
	w, err := o.store.WriteTemp()
	if err != nil {
		return err
	}
	defer w.Abort()

	var r io.Reader = &ctxReader{ctx: ctx, r: rc}
	if d.Size > 0 {
		// Stop a registry that sends more than announced.
		r = io.LimitReader(r, d.Size+1)
	}
	pr := &progressReader{r: r, o: o, e: Event{Kind: EventLayerProgress, Digest: d.Digest, Total: d.Size}}
	if _, err := io.Copy(w, pr); err != nil {
		return retriedError(registry, err)
	}
	if d.Size > 0 && w.Size() != d.Size {
		return fmt.Errorf("registry %s sent %d bytes, the manifest says %d", registry, w.Size(), d.Size)
	}
	if err := w.Commit(d.Digest); err != nil {
		return err
	}
	o.emit(Event{Kind: EventLayerDone, Digest: d.Digest, Current: w.Size(), Total: w.Size()})
	return nil
}

// retype lists l under the media type mt, keeping it mountable from its
// repository.
func retype(l v1.Layer, mt types.MediaType) v1.Layer {
	if ml, ok := l.(*remote.MountableLayer); ok {
		return &remote.MountableLayer{Layer: &retypedLayer{Layer: ml.Layer, mediaType: mt}, Reference: ml.Reference}
	}
	return &retypedLayer{Layer: l, mediaType: mt}
}
