package solver

import (
	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/stratabuild/strata/frontend"
	"github.com/stratabuild/strata/solver/sandbox"
)

// A build for several platforms is one plan per platform, built one after
// the other by the same Builder: a stage whose steps do not depend on the
// target platform (one pinned with FROM --platform=$BUILDPLATFORM, say) has
// the same cache keys in every plan and is built once, and its base image
// is pulled once. The caller assembles the results into an index
// (image.NewIndex).

// stagePlatform is the platform stage s builds for, as BuildKit decides
// it: a stage derived from another stage has that stage's platform; else
// its FROM --platform; else the plan's target platform.
func stagePlatform(plan *frontend.Plan, s *frontend.Stage) string {
	for s.BaseStage != nil {
		s = s.BaseStage
	}
	if s.Platform != "" {
		return s.Platform
	}
	return plan.Platform
}

// checkEmulation fails early, before any work, when a stage with RUN steps
// builds for a platform whose programs this machine cannot run: neither
// natively nor through a QEMU handler in binfmt_misc (see
// sandbox.CheckEmulation). The error names the first such RUN.
func (b *Builder) checkEmulation(plan *frontend.Plan) error {
	checked := map[string]bool{}
	for _, s := range plan.Stages {
		platform := stagePlatform(plan, s)
		if checked[platform] {
			continue
		}
		for _, c := range s.Commands {
			run, ok := c.(*instructions.RunCommand)
			if !ok {
				continue
			}
			if err := sandbox.CheckEmulation(platform); err != nil {
				return frontend.Errorf(plan.File, run.Location(), "%s: %w", cmdString(run), err)
			}
			checked[platform] = true
			break
		}
	}
	return nil
}
