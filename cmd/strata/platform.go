package main

import (
	"context"
	"fmt"
	"sync/atomic"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/stratabuild/strata/frontend"
	"github.com/stratabuild/strata/image"
	"github.com/stratabuild/strata/solver"
)

// artifact is what a build made: one image, or for several platforms an
// index of one image per platform.
type artifact struct {
	img v1.Image      // one platform
	idx v1.ImageIndex // several platforms
	// executed and cached count the steps of all platforms.
	executed, cached int
	steps            []stepEntry
}

// digest is the image's digest, or the index's.
func (a *artifact) digest() (v1.Hash, error) {
	if a.idx != nil {
		return a.idx.Digest()
	}
	return a.img.Digest()
}

// checkPlatformOutputs refuses, before any work, outputs that cannot take
// several platforms.
func checkPlatformOutputs(platforms []string, outs []output) error {
	if len(platforms) < 2 {
		return nil
	}
	for _, o := range outs {
		if o.Type == "docker" {
			return usagef("--output %s: a docker tar holds one platform (docker load cannot load an image index), and %d were asked for; build one --platform at a time for docker, or use type=oci", o, len(platforms))
		}
	}
	return nil
}

// planPlatforms makes one plan per platform (one for the host's when
// platforms is empty), before anything is built, so that a Dockerfile
// error shows at once.
func planPlatforms(df *frontend.Dockerfile, opts frontend.Options, platforms []string) ([]*frontend.Plan, error) {
	if len(platforms) == 0 {
		platforms = []string{""}
	}
	var plans []*frontend.Plan
	for _, p := range platforms {
		opts.Platform = p
		plan, err := df.Plan(opts)
		if err != nil {
			return nil, err
		}
		plans = append(plans, plan)
	}
	return plans, nil
}

// buildPlatforms builds the plans one after the other with one Builder:
// stages that do not depend on the target platform (FROM
// --platform=$BUILDPLATFORM, say) come from the cache after the first. One
// plan gives an image; several give an index whose manifests carry their
// platforms, in the order of the plans. With several plans, progress lines
// and errors name the platform, as buildx does.
func buildPlatforms(ctx context.Context, b *solver.Builder, plans []*frontend.Plan, prefix *stagePrefix) (*artifact, error) {
	multi := len(plans) > 1
	var images []image.PlatformImage
	var last *solver.Result
	var steps []stepEntry
	for _, plan := range plans {
		if multi {
			prefix.set(plan.Platform + " ")
		}
		res, err := b.Build(ctx, plan)
		if err != nil {
			if multi {
				return nil, fmt.Errorf("%s: %w", plan.Platform, err)
			}
			return nil, err
		}
		p, err := v1.ParsePlatform(res.Platform)
		if err != nil {
			return nil, err
		}
		images = append(images, image.PlatformImage{Platform: *p, Image: res.Image})
		steps = append(steps, stepEntries(res, multi)...)
		last = res
	}
	// The Builder counts across builds: the last result has the totals.
	a := &artifact{executed: last.Executed, cached: last.Cached, steps: steps}
	if !multi {
		a.img = last.Image
		return a, nil
	}
	idx, err := image.NewIndex(images...)
	if err != nil {
		return nil, err
	}
	a.idx = idx
	return a, nil
}

// stagePrefix puts the platform being built in front of stage names in
// progress events.
type stagePrefix struct{ p atomic.Pointer[string] }

func (s *stagePrefix) set(prefix string) { s.p.Store(&prefix) }

func (s *stagePrefix) wrap(sink func(solver.Event)) func(solver.Event) {
	return func(e solver.Event) {
		if p := s.p.Load(); p != nil {
			e.Stage = *p + e.Stage
		}
		sink(e)
	}
}
