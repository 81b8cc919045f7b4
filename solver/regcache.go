package solver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/stratabuild/strata/image"
)

// A build cache can be exported to a registry or an OCI layout
// (--cache-to) and imported from there (--cache-from), so that a CI runner
// that starts empty reuses the steps an earlier runner built.
//
// The cache is an artifact (see image.NewArtifact): an OCI image manifest
// whose config, of media type cacheConfigType, is a cacheDoc, and whose
// layers are the layer blobs the records name (each annotated with its diff
// ID) and the tars of exported cache mounts. A record maps a step's cache
// key to the layer the step made and when it first ran; keys are those of
// the local cache (see hashKey), so they already depend on strata's cache
// format. Importing reads only the manifest and the config: a layer is
// downloaded when a step has to run on top of it or an output needs its
// bytes, and a push to the registry the cache lives in mounts it.

// cacheConfigType is the media type of a cache's config.
const cacheConfigType types.MediaType = "application/vnd.strata.cache.config.v1+json"

// Annotations on the blobs of a cache.
const (
	annotationDiffID = "dev.strata.cache.diffid"
	annotationMount  = "dev.strata.cache.mount"
)

// CacheRef names an exported cache: Ref, a registry repository and tag
// (type=registry,ref=), or Dir, an OCI layout directory (type=local).
type CacheRef struct {
	Ref string
	Dir string
}

func (c CacheRef) String() string {
	if c.Dir != "" {
		return "type=local:" + c.Dir
	}
	return c.Ref
}

// CacheExport is a cache to write after the build (--cache-to).
type CacheExport struct {
	CacheRef
	// Max exports every step of every stage built (mode=max); otherwise
	// only the steps whose layers are in the final images (mode=min).
	Max bool
	// Mounts exports the contents of the RUN --mount=type=cache
	// directories the build used, each if it is at most MountMaxSize bytes.
	Mounts       bool
	MountMaxSize int64
}

// cacheDoc is the config of an exported cache.
type cacheDoc struct {
	Records []cacheEntry `json:"records"`
	Mounts  []mountEntry `json:"mounts,omitempty"`
	// Explain has what each step of the exporting build read, by the
	// step's portable identity, so that a runner that imports the cache
	// can say why a step missed (see explain.go).
	Explain map[string]explainRecord `json:"explain,omitempty"`
}

type cacheEntry struct {
	Key     v1.Hash   `json:"key"`
	Layer   v1.Hash   `json:"layer"` // blob digest, listed in the manifest
	Created time.Time `json:"created"`
}

// stepRecord is a step's result as the cache keeps it.
type stepRecord struct {
	key     v1.Hash
	layer   layer
	created time.Time
}

// importCaches reads the caches of Options.CacheFrom, once per Builder. A
// cache that is missing or unreadable is reported as a warning, and the
// build goes on without it, as with docker buildx.
func (b *Builder) importCaches(ctx context.Context) {
	if b.opts.NoCache {
		return // nothing would be looked up in them
	}
	b.importOnce.Do(func() {
		for _, ref := range b.opts.CacheFrom {
			n, err := b.importCache(ctx, ref)
			switch {
			case errors.Is(err, image.ErrNotFound):
				b.warn("cache %s not found: building without it", ref)
			case err != nil:
				b.warn("importing cache %s: %v: building without it", ref, err)
			default:
				b.note("imported cache %s: %d steps", ref, n)
			}
		}
	})
}

func (b *Builder) importCache(ctx context.Context, ref CacheRef) (int, error) {
	var a *image.Artifact
	var err error
	if ref.Dir != "" {
		a, err = image.ReadLayoutArtifact(ref.Dir, cacheConfigType, b.store.blobs)
	} else {
		a, err = image.FetchArtifact(ctx, ref.Ref, cacheConfigType, b.imageOptions()...)
	}
	if err != nil {
		return 0, err
	}
	var doc cacheDoc
	if err := json.Unmarshal(a.Config, &doc); err != nil {
		return 0, fmt.Errorf("reading its records: %w", err)
	}
	blobs := map[v1.Hash]v1.Descriptor{}
	for _, d := range a.Manifest.Layers {
		blobs[d.Digest] = d
	}
	// Everything is checked before anything is used: a cache that is
	// wrong anywhere is not used at all.
	recs := make([]stepRecord, 0, len(doc.Records))
	for _, e := range doc.Records {
		d, ok := blobs[e.Layer]
		if !ok {
			return 0, fmt.Errorf("record %s names blob %s, which the manifest does not list", e.Key, e.Layer)
		}
		diffID, err := v1.NewHash(d.Annotations[annotationDiffID])
		if err != nil {
			return 0, fmt.Errorf("blob %s: diff ID: %w", d.Digest, err)
		}
		recs = append(recs, stepRecord{key: e.Key, layer: layer{DiffID: diffID, Digest: d.Digest, Size: d.Size, MediaType: d.MediaType}, created: e.Created})
	}
	for _, m := range doc.Mounts {
		if _, ok := blobs[m.Blob]; !ok {
			return 0, fmt.Errorf("cache mount %s names blob %s, which the manifest does not list", m.ID, m.Blob)
		}
	}
	// A registry may have deleted blobs the manifest lists (a retention
	// policy, a garbage collection): the records and cache mounts of those
	// are left out, so that their steps run, rather than failing the
	// build when the blob is first read.
	missing, err := a.Missing(ctx, a.Manifest.Layers)
	if err != nil {
		return 0, fmt.Errorf("checking its blobs: %w", err)
	}
	if len(missing) > 0 {
		gone := map[v1.Hash]bool{}
		for _, h := range missing {
			gone[h] = true
		}
		recs = slices.DeleteFunc(recs, func(r stepRecord) bool { return gone[r.layer.Digest] })
		doc.Mounts = slices.DeleteFunc(doc.Mounts, func(m mountEntry) bool { return gone[m.Blob] })
		b.warn("cache %s: %d of its blobs are missing (%s first): the steps that made them run again", ref, len(missing), missing[0])
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, rec := range recs {
		if _, seen := b.imported[rec.key]; seen {
			continue // an earlier --cache-from wins
		}
		b.imported[rec.key] = rec
		if _, ok := b.sources[rec.layer.Digest]; !ok {
			b.sources[rec.layer.Digest] = a.Blob(blobs[rec.layer.Digest], rec.layer.DiffID)
		}
	}
	for _, m := range doc.Mounts {
		if _, seen := b.importedMounts[m.ID]; !seen {
			b.importedMounts[m.ID] = a.Blob(blobs[m.Blob], v1.Hash{})
		}
	}
	if b.importedExplains == nil {
		b.importedExplains = map[string]explainRecord{}
	}
	for id, e := range doc.Explain {
		if _, seen := b.importedExplains[id]; !seen {
			b.importedExplains[id] = e
		}
	}
	return len(recs), nil
}

// importedStep returns the layer an imported cache has for key, in the
// build's compression when the cache has it so, else unpacked and packed
// anew.
func (r *stageRun) importedStep(key v1.Hash) (stepRecord, bool) {
	b := r.b
	b.mu.Lock()
	rec, ok := b.imported[key]
	b.mu.Unlock()
	if !ok || b.opts.DryRun {
		return rec, ok // a dry run fetches and writes nothing
	}
	if rec.layer.MediaType != b.opts.Compression.MediaType() {
		if err := b.ensureLayerDir(rec.layer); err != nil {
			b.warn("cached layer %s: %v: running the step", rec.layer.Digest, err)
			return stepRecord{}, false
		}
		l, err := r.blobFor(rec.layer.DiffID)
		if err != nil {
			b.warn("cached layer %s: %v: running the step", rec.layer.Digest, err)
			return stepRecord{}, false
		}
		rec.layer = l
	}
	// Remembered locally too: once the layer is unpacked here, a build
	// without --cache-from hits it as well.
	_ = b.store.saveKey(key, keyRecord{DiffID: rec.layer.DiffID, Created: rec.created})
	_ = b.store.recordBlob(rec.layer)
	return rec, true
}

// ExportCache writes the cache exp from what the builds of b made and
// reused; call it after the last Build.
func (b *Builder) ExportCache(ctx context.Context, exp CacheExport) error {
	if err := b.exportCache(ctx, exp); err != nil {
		return fmt.Errorf("exporting cache %s: %w", exp.CacheRef, err)
	}
	return nil
}

func (b *Builder) exportCache(ctx context.Context, exp CacheExport) error {
	b.mu.Lock()
	var recs []stepRecord
	if exp.Max {
		for _, r := range b.records {
			recs = append(recs, r)
		}
	} else {
		seen := map[v1.Hash]bool{}
		for _, st := range b.finals {
			for _, r := range st.records {
				if !seen[r.key] {
					seen[r.key] = true
					recs = append(recs, r)
				}
			}
		}
	}
	doc := cacheDoc{Explain: maps.Clone(b.explains)}
	b.mu.Unlock()
	// Sorted, so that the same cache gives the same artifact.
	slices.SortFunc(recs, func(x, y stepRecord) int { return strings.Compare(x.key.Hex, y.key.Hex) })

	var blobs []v1.Layer
	annotations := map[v1.Hash]map[string]string{}
	for _, r := range recs {
		doc.Records = append(doc.Records, cacheEntry{Key: r.key, Layer: r.layer.Digest, Created: r.created.UTC()})
		if _, dup := annotations[r.layer.Digest]; dup {
			continue
		}
		annotations[r.layer.Digest] = map[string]string{annotationDiffID: r.layer.DiffID.String()}
		blobs = append(blobs, b.imageLayer(r.layer))
	}
	if exp.Mounts {
		mounts, mblobs, err := b.exportMounts(ctx, exp.MountMaxSize)
		if err != nil {
			return err
		}
		doc.Mounts = mounts
		for _, l := range mblobs {
			d, err := l.Digest()
			if err != nil {
				return err
			}
			if _, dup := annotations[d]; dup {
				continue
			}
			annotations[d] = map[string]string{annotationMount: "true"}
			blobs = append(blobs, l)
		}
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	a, err := image.NewArtifact(cacheConfigType, raw, blobs, annotations)
	if err != nil {
		return err
	}
	if exp.Dir != "" {
		return image.WriteOCI(a, nil, exp.Dir, false)
	}
	return image.Push(ctx, a, []string{exp.Ref}, b.imageOptions()...)
}

// imageOptions are the registry settings of the build.
func (b *Builder) imageOptions() []image.Option {
	return []image.Option{image.WithStore(b.store.blobs), image.WithInsecure(b.opts.Insecure...)}
}

// warn reports a problem the build goes on despite.
func (b *Builder) warn(format string, args ...any) {
	b.note("warning: "+format, args...)
}

func (b *Builder) note(format string, args ...any) {
	b.progress(Event{Kind: Note, Line: fmt.Sprintf(format, args...)})
}
