package image

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// Push uploads img and points every tag in tags at its manifest. Blobs are
// uploaded o.jobs at a time (4 by default) and only if the registry lacks
// them; a tag that already points at the manifest costs one request.
// Credentials come from the keychain (WithKeychain) and plain HTTP is
// allowed for loopback registries and those named with WithInsecure. Tags
// may name different registries and repositories; each registry is pushed
// to in turn, and a failure names it and what failed.
func Push(ctx context.Context, img v1.Image, tags []string, opts ...Option) error {
	return push(ctx, img, tags, opts)
}

// PushIndex is Push for an image index (see NewIndex): it uploads every
// image of idx, then idx, and points every tag in tags at idx.
func PushIndex(ctx context.Context, idx v1.ImageIndex, tags []string, opts ...Option) error {
	return push(ctx, idx, tags, opts)
}

// pushable is what Push and PushIndex push: a v1.Image or a v1.ImageIndex.
type pushable interface {
	remote.Taggable
	Digest() (v1.Hash, error)
}

func push(ctx context.Context, img pushable, tags []string, opts []Option) error {
	if len(tags) == 0 {
		return errors.New("pushing: no tag given")
	}
	o := makeOptions(opts)
	digest, err := img.Digest()
	if err != nil {
		return fmt.Errorf("pushing: %w", err)
	}

	// Group the tags by registry, keeping their order.
	var registries []string
	byRegistry := map[string][]name.Tag{}
	for _, t := range tags {
		tag, err := o.parseTag(t)
		if err != nil {
			return fmt.Errorf("pushing %s: %w", t, err)
		}
		reg := tag.Context().RegistryStr()
		if _, ok := byRegistry[reg]; !ok {
			registries = append(registries, reg)
		}
		byRegistry[reg] = append(byRegistry[reg], tag)
	}

	for _, reg := range registries {
		todo := map[name.Reference]remote.Taggable{}
		var names []string
		for _, tag := range byRegistry[reg] {
			todo[tag] = img
			names = append(names, tag.String())
		}
		if err := o.multiWrite(ctx, reg, todo); err != nil {
			return pushError(strings.Join(names, ", "), reg, err)
		}
		for _, tag := range byRegistry[reg] {
			o.emit(Event{Kind: EventPushed, Ref: tag.Name(), Digest: digest})
		}
	}
	return nil
}

// multiWrite runs write, turning its progress updates into events when
// someone listens.
func (o *options) multiWrite(ctx context.Context, registry string, todo map[name.Reference]remote.Taggable) error {
	if o.progress == nil {
		return o.write(ctx, todo, nil)
	}
	updates := make(chan v1.Update, 16)
	done := make(chan struct{})
	go func() {
		defer close(done)
		pr := progressReader{o: o}
		for u := range updates {
			if u.Error != nil {
				continue
			}
			// Throttled like downloads; the last update always goes out.
			pr.e = Event{Kind: EventPushProgress, Ref: registry, Current: u.Complete, Total: u.Total}
			pr.maybeEmit(u.Complete == u.Total)
		}
	}()
	// write closes updates before it returns.
	err := o.write(ctx, todo, updates)
	<-done
	return err
}

// write is remote.MultiWrite, except that it uploads the blobs on their
// own, so that a failure names the blob (a *blobError). First it asks
// whether each tag already points at its manifest (one HEAD, as
// MultiWrite does: then that tag is done); then it uploads the blobs of
// the others, o.jobs at a time; then it writes their manifests, which
// uploads nothing more since the Pusher remembers what it uploaded. As
// with MultiWrite, no manifest is written before all its blobs are in the
// registry. It sends progress to updates, if not nil, and closes it.
func (o *options) write(ctx context.Context, todo map[name.Reference]remote.Taggable, updates chan<- v1.Update) error {
	ropts := o.remote(ctx)
	if updates != nil {
		defer close(updates)
		ropts = o.remote(ctx, remote.WithProgress(updates))
	}
	p, err := remote.NewPusher(ropts...)
	if err != nil {
		return err
	}
	manifestErr := func(t remote.Taggable, err error) error {
		d, _ := partial.Digest(t)
		return &blobError{kind: "manifest", digest: d, err: err}
	}

	var mu sync.Mutex
	needed := map[name.Reference]bool{}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.jobs)
	for ref, t := range todo {
		g.Go(func() error {
			pt, ok := probe(t)
			var err error
			if ok {
				err = p.Push(gctx, ref, pt)
			}
			if !ok || errors.Is(err, errProbe) {
				mu.Lock()
				needed[ref] = true
				mu.Unlock()
				return nil
			}
			if err != nil {
				return manifestErr(t, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}

	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(o.jobs)
	uploaded := map[name.Repository]bool{}
	for ref := range needed {
		if uploaded[ref.Context()] {
			continue
		}
		uploaded[ref.Context()] = true
		blobs, err := pushBlobs(todo[ref])
		if err != nil {
			return err
		}
		for _, b := range blobs {
			g.Go(func() error {
				if err := p.Upload(gctx, ref.Context(), b.layer); err != nil {
					return &blobError{kind: b.kind, digest: b.digest, err: err}
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}

	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(o.jobs)
	for ref := range needed {
		g.Go(func() error {
			if err := p.Push(gctx, ref, todo[ref]); err != nil {
				return manifestErr(todo[ref], err)
			}
			return nil
		})
	}
	return g.Wait()
}

// errProbe is how a probe stops Pusher.Push.
var errProbe = errors.New("probe: the manifest is not there")

// probe hides the blobs and child manifests of t (an image or an index):
// Pusher.Push of a probe returns nil if the tag already points at t's
// manifest, after one HEAD, and errProbe where it would go on to upload.
// It returns false for anything else, which is not probed.
func probe(t remote.Taggable) (remote.Taggable, bool) {
	switch t := t.(type) {
	case v1.Image:
		return probeImage{t}, true
	case v1.ImageIndex:
		return probeIndex{t}, true
	}
	return nil, false
}

// The probes must remain an image and an index: ggcr would push anything
// else as a manifest without dependencies.
var (
	_ v1.Image      = probeImage{}
	_ v1.ImageIndex = probeIndex{}
)

type probeImage struct{ embeddedImage }

// embeddedImage and embeddedIndex name the embedded fields of the probes
// (an embedded v1.ImageIndex would be a field named ImageIndex, hiding the
// method of that name).
type (
	embeddedImage interface{ v1.Image }
	embeddedIndex interface{ v1.ImageIndex }
)

func (probeImage) Layers() ([]v1.Layer, error) { return nil, errProbe }

type probeIndex struct{ embeddedIndex }

func (probeIndex) IndexManifest() (*v1.IndexManifest, error) { return nil, errProbe }

// pushBlob is a blob that a push uploads.
type pushBlob struct {
	kind   string // "layer" or "config"
	digest v1.Hash
	layer  v1.Layer
}

// pushBlobs lists the blobs of t, an image or an index of images, once
// each.
func pushBlobs(t remote.Taggable) ([]pushBlob, error) {
	var out []pushBlob
	seen := map[v1.Hash]bool{}
	add := func(kind string, l v1.Layer) error {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		if !seen[d] {
			seen[d] = true
			out = append(out, pushBlob{kind: kind, digest: d, layer: l})
		}
		return nil
	}
	var walk func(t remote.Taggable) error
	walk = func(t remote.Taggable) error {
		switch t := t.(type) {
		case v1.Image:
			ls, err := t.Layers()
			if err != nil {
				return err
			}
			for _, l := range ls {
				if err := add("layer", l); err != nil {
					return err
				}
			}
			cl, err := partial.ConfigLayer(t)
			if err != nil {
				return err
			}
			return add("config", cl)
		case v1.ImageIndex:
			im, err := t.IndexManifest()
			if err != nil {
				return err
			}
			for _, d := range im.Manifests {
				var child remote.Taggable
				switch {
				case d.MediaType.IsImage():
					child, err = t.Image(d.Digest)
				case d.MediaType.IsIndex():
					child, err = t.ImageIndex(d.Digest)
				default:
					continue
				}
				if err != nil {
					return err
				}
				if err := walk(child); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(t)
}
