package image

import (
	"fmt"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// EventKind says what an Event reports.
type EventKind int

// The kinds of progress events.
const (
	// EventResolved: Ref was resolved to the manifest Digest.
	EventResolved EventKind = iota + 1
	// EventLayerCached: the layer Digest was already in the store.
	EventLayerCached
	// EventLayerProgress: Current of Total bytes of layer Digest are in.
	EventLayerProgress
	// EventLayerDone: layer Digest was downloaded and verified.
	EventLayerDone
	// EventPushProgress: Current of Total bytes were uploaded to the
	// registry of Ref (blobs that the registry already had count as done).
	EventPushProgress
	// EventPushed: tag Ref now points at manifest Digest.
	EventPushed
)

// Event is one progress report from Pull or Push. It is meant for
// rendering; String gives a one-line human form.
type Event struct {
	Kind    EventKind
	Ref     string
	Digest  v1.Hash
	Current int64
	Total   int64
}

// String renders e, for example "pulling layer sha256:0123456789ab 3.1 MB/10.0 MB".
func (e Event) String() string {
	switch e.Kind {
	case EventResolved:
		return fmt.Sprintf("resolved %s to %s", e.Ref, e.Digest)
	case EventLayerCached:
		return fmt.Sprintf("layer %s %s already present", short(e.Digest), humanSize(e.Total))
	case EventLayerProgress:
		return fmt.Sprintf("pulling layer %s %s/%s", short(e.Digest), humanSize(e.Current), humanSize(e.Total))
	case EventLayerDone:
		return fmt.Sprintf("pulled layer %s %s", short(e.Digest), humanSize(e.Total))
	case EventPushProgress:
		return fmt.Sprintf("pushing to %s %s/%s", e.Ref, humanSize(e.Current), humanSize(e.Total))
	case EventPushed:
		return fmt.Sprintf("pushed %s@%s", e.Ref, e.Digest)
	}
	return fmt.Sprintf("event %d %s", e.Kind, e.Ref)
}

// short abbreviates a digest to its algorithm and 12 hex digits.
func short(h v1.Hash) string {
	if len(h.Hex) > 12 {
		return h.Algorithm + ":" + h.Hex[:12]
	}
	return h.String()
}

// humanSize formats n bytes in decimal units, as registries and docker do.
func humanSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, u := range []string{"kB", "MB", "GB", "TB"} {
		v /= unit
		if v < unit {
			return fmt.Sprintf("%.1f %s", v, u)
		}
	}
	return fmt.Sprintf("%.1f PB", v/unit)
}

// progressInterval bounds how often a transfer reports progress.
const progressInterval = 100 * time.Millisecond

// progressReader reports bytes read through o, at most every
// progressInterval.
type progressReader struct {
	r    io.Reader
	o    *options
	e    Event
	last time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.e.Current += int64(n)
	p.maybeEmit(false)
	return n, err
}

// maybeEmit sends the current event if progressInterval has passed since
// the last one, or if force is set.
func (p *progressReader) maybeEmit(force bool) {
	if now := time.Now(); force || now.Sub(p.last) >= progressInterval {
		p.last = now
		p.o.emit(p.e)
	}
}
