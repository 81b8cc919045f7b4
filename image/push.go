package image

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
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
			return fmt.Errorf("pushing %s: %w", strings.Join(names, ", "), registryError(reg, err))
		}
		for _, tag := range byRegistry[reg] {
			o.emit(Event{Kind: EventPushed, Ref: tag.Name(), Digest: digest})
		}
	}
	return nil
}

// multiWrite runs remote.MultiWrite, turning its progress updates into
// events when someone listens.
func (o *options) multiWrite(ctx context.Context, registry string, todo map[name.Reference]remote.Taggable) error {
	if o.progress == nil {
		return remote.MultiWrite(todo, o.remote(ctx)...)
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
	// MultiWrite closes updates before it returns (it could only fail to
	// do so for options that are invalid, which o never produces).
	err := remote.MultiWrite(todo, o.remote(ctx, remote.WithProgress(updates))...)
	<-done
	return err
}
