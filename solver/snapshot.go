package solver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/stratabuild/strata/layers"
)

// fsStep runs one filesystem step with the layer cache: key identifies the
// step's input (with the parent filesystem's key already folded in). On a
// hit the cached layer is reused; on a miss, mutate changes a writable
// overlay of the stage's filesystem mounted at rootfs and the overlay's
// upper directory becomes the new layer.
// snapshot is the filesystem a step changes: root, the overlay mount of
// the stage's layers (lowers, topmost first) with upper as the step's own
// layer. Writes go through root; only the COPY fast path (copylink.go)
// writes to upper directly.
type snapshot struct {
	root, upper string
	lowers      []string
}

func (r *stageRun) fsStep(ctx context.Context, key v1.Hash, createdBy string, mutate func(sn snapshot) error) error {
	return r.fsStepOver(ctx, key, r.st, createdBy, mutate)
}

// fsStepOver is fsStep with the filesystem that mutate changes given as
// the state over (nil is an empty filesystem): COPY --link makes its layer
// over nothing, cached under a key of its own input, and lays it on the
// stage.
func (r *stageRun) fsStepOver(ctx context.Context, key v1.Hash, over *stageState, createdBy string, mutate func(sn snapshot) error) error {
	b := r.b
	key = b.epochKey(key)
	ev := Event{Stage: r.stage.DisplayName(), Step: r.step, Total: r.total, Name: r.name}
	cached := func() bool {
		rec, ok := b.store.lookupKey(key)
		if !ok {
			return false
		}
		l, err := layer{DiffID: rec.DiffID}, error(nil)
		if !b.opts.DryRun {
			l, err = r.blobFor(rec.DiffID)
		}
		if err != nil {
			return false
		}
		ev.Kind = StepCached
		b.progress(ev)
		b.count(false)
		r.reportStep(true, nil)
		r.commit(key, l, createdBy, rec.Created)
		r.recordStep(key)
		return true
	}
	if !b.opts.NoCache {
		if cached() {
			return nil
		}
		if rec, ok := r.importedStep(key); ok {
			ev.Kind = StepCached
			b.progress(ev)
			b.count(false)
			r.reportStep(true, nil)
			r.commit(key, rec.layer, createdBy, rec.created)
			r.recordStep(key)
			return nil
		}
	}
	if !b.opts.NoCache && !b.opts.DryRun {
		// Another build on the cache may be running this very step:
		// wait for it and take its result, so that builds of the same
		// Dockerfile at once run each step once and agree.
		unlock, err := b.store.lockStep(ctx, key)
		if err != nil {
			return err
		}
		defer unlock()
		if cached() {
			return nil
		}
	}
	ev.Miss = r.explainMiss(key)
	r.reportStep(false, ev.Miss)
	if b.opts.DryRun {
		// Later steps need only this step's key.
		ev.Kind = StepPlanned
		b.progress(ev)
		b.count(true)
		r.commit(key, layer{}, createdBy, time.Time{})
		r.recordStep(key)
		return nil
	}
	var lowers []string
	if over != nil {
		var err error
		if lowers, err = b.lowerDirs(over); err != nil {
			return err
		}
	}
	ev.Kind = StepStart
	b.progress(ev)
	start := time.Now()

	tmp, err := b.store.tempDir("step-*")
	if err != nil {
		return err
	}
	mounted := false
	defer func() {
		// Never delete through a mount that is still there.
		if !mounted {
			os.RemoveAll(tmp)
		}
	}()
	upper, work, rootfs := filepath.Join(tmp, "upper"), filepath.Join(tmp, "work"), filepath.Join(tmp, "rootfs")
	for _, d := range []string{upper, work, rootfs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
		// The umask must not shape the image: overlay shows the upper
		// dir's root as the container's "/".
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}
	if len(lowers) == 0 {
		empty := filepath.Join(tmp, "empty")
		if err := os.Mkdir(empty, 0o755); err != nil {
			return err
		}
		lowers = []string{empty}
	}
	if err := layers.Mount(rootfs, lowers, upper, work); err != nil {
		return fmt.Errorf("mounting snapshot: %w", err)
	}
	mounted = true
	mutateErr := mutate(snapshot{root: rootfs, upper: upper, lowers: lowers})
	if err := layers.Unmount(rootfs); err != nil {
		return fmt.Errorf("unmounting snapshot %s: %w", rootfs, err)
	}
	mounted = false
	if mutateErr != nil {
		return mutateErr
	}
	if err := b.clampLayer(upper); err != nil {
		return err
	}
	l, err := b.store.packLayer(upper, b.opts.Compression)
	if err != nil {
		return err
	}
	if err := b.store.commitLayerDir(upper, l.DiffID); err != nil {
		return err
	}
	if err := b.store.recordBlob(l); err != nil {
		return err
	}
	created := b.epochOr(b.opts.Now().UTC())
	if err := b.store.saveKey(key, keyRecord{DiffID: l.DiffID, Created: created, Step: createdBy}); err != nil {
		return err
	}
	ev.Kind, ev.Duration = StepDone, time.Since(start)
	b.progress(ev)
	b.count(true)
	r.commit(key, l, createdBy, created)
	r.recordStep(key)
	return nil
}

// blobFor finds or makes the blob of a cached layer in the build's
// compression.
func (r *stageRun) blobFor(diffID v1.Hash) (layer, error) {
	b := r.b
	if l, ok := b.store.findBlob(diffID, b.opts.Compression.MediaType()); ok {
		return l, nil
	}
	if !b.store.hasLayerDir(diffID) {
		return layer{}, fmt.Errorf("cached layer %s is not unpacked", diffID)
	}
	l, err := b.store.packLayer(b.store.layerDir(diffID), b.opts.Compression)
	if err != nil {
		return layer{}, err
	}
	if l.DiffID != diffID {
		return layer{}, fmt.Errorf("cached layer %s changed on disk", diffID)
	}
	return l, b.store.recordBlob(l)
}

// commit lays the layer l, which the step with the cache key key made,
// over the stage. The stage's key then names its filesystem by content:
// the key before and the layer's diff ID, not the step's cache key. So a
// step's cache record is only ever reused over the very layers it was made
// on: if a step below runs again and makes other bytes (a RUN that is not
// reproducible, a cache record evicted, an imported cache made elsewhere),
// the steps above miss rather than lay their old layers over new ones.
func (r *stageRun) commit(key v1.Hash, l layer, createdBy string, created time.Time) {
	rec := stepRecord{key: key, layer: l, created: created}
	r.b.mu.Lock()
	r.b.records[key] = rec
	r.b.mu.Unlock()
	r.st.records = append(r.st.records, rec)
	created = r.b.epochOr(created) // whatever a cache record says
	r.st.key = hashKey("layer", r.st.key.String(), l.DiffID.String())
	r.st.layers = append(r.st.layers, l)
	r.st.cfg.History = append(r.st.cfg.History, v1.History{
		Created:   v1.Time{Time: created},
		CreatedBy: createdBy,
		Comment:   historyComment,
	})
}
