package solver

import (
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/stratabuild/strata/layers"
)

// Reproducible builds: with Options.SourceDateEpoch set, every layer the
// build writes has no modification time later than the epoch (later ones
// become the epoch, earlier ones stay: BuildKit's rewrite-timestamp), and
// the image's created time and the history entries the build adds are the
// epoch. Base image layers and history are left as they are. Tar headers
// are deterministic anyway (sorted names, numeric owners only, no access
// or change times) and so are the compressors (no name or time in the
// gzip header, fixed block sizes), so the same input gives the same bytes
// wherever it is built.
//
// The times are clamped in the step's overlay upper directory, before it
// is packed and becomes layers/<diffID>/, not in the tar writer. That
// directory is reused as an overlay lower by later steps and is packed
// again when a build asks for another compression, with no memory of the
// epoch it was made under: it must pack to its own diffID on its own.
// Clamping only in the tar writer would leave a directory whose tar is not
// its diffID, and would let later RUN steps see times the image does not
// have. The upper directory holds only the step's changes, so the walk
// costs about as much as the tar writer's own.
//
// A clamped layer is not the layer an unclamped build makes of the same
// step, so the epoch is part of the cache key of filesystem steps, and
// only when it is set: builds without it keep the keys they always had,
// and a build never reuses a layer made under another epoch or none.
// Folding it into each step's key (rather than into the base state's key)
// is enough because it is one setting of the whole build: every step that
// can see a clamped layer is a step of an epoch build, keyed with it.

// epochKey is key with the build's epoch folded in, or key itself when the
// build has none.
func (b *Builder) epochKey(key v1.Hash) v1.Hash {
	e := b.opts.SourceDateEpoch
	if e.IsZero() {
		return key
	}
	return hashKey("source-date-epoch", e.UTC().Format(time.RFC3339Nano), key.String())
}

// clampLayer applies the build's epoch to a step's upper directory.
func (b *Builder) clampLayer(upper string) error {
	if b.opts.SourceDateEpoch.IsZero() {
		return nil
	}
	return layers.ClampTimes(upper, b.opts.SourceDateEpoch)
}

// epochOr is the build's epoch when it has one, else t: the time of a
// history entry the build adds.
func (b *Builder) epochOr(t time.Time) time.Time {
	if e := b.opts.SourceDateEpoch; !e.IsZero() {
		return e.UTC()
	}
	return t
}
