package main

import (
	"context"
	"fmt"
	"io"

	"github.com/stratabuild/strata/frontend"
	"github.com/stratabuild/strata/solver"
)

// stepEntry is a step in --metadata-file's "strata.steps" and in --plan.
type stepEntry struct {
	// Platform is set when the build has several.
	Platform string `json:"platform,omitempty"`
	solver.StepReport
}

func stepEntries(res *solver.Result, multi bool) []stepEntry {
	var out []stepEntry
	for _, s := range res.Steps {
		e := stepEntry{StepReport: s}
		if multi {
			e.Platform = res.Platform
		}
		out = append(out, e)
	}
	return out
}

// String is the step's line in --plan's output:
//
//	[build 1/4] FROM busybox: base sha256:...
//	[build 2/4] COPY a.txt /a.txt: cached
//	[build 3/4] RUN make: run: file a.txt changed (sha256:... → sha256:...)
func (e stepEntry) String() string {
	s := fmt.Sprintf("[%s %d/%d] %s: ", e.Stage, e.Step, e.Total, e.Name)
	if e.Platform != "" {
		s = e.Platform + " " + s
	}
	switch {
	case e.Base != "":
		return s + "base " + e.Base
	case e.Cached:
		return s + "cached"
	case e.Miss != nil:
		return s + "run: " + e.Miss.Text
	}
	return s + "run"
}

// runPlan does a dry run of the plans (b was made with Options.DryRun)
// and prints each step on w: the plan is the result of --plan. Nothing is
// run, copied, exported or written to the cache; base images are resolved.
func runPlan(ctx context.Context, b *solver.Builder, plans []*frontend.Plan, prefix *stagePrefix, w io.Writer, progress renderer) error {
	multi := len(plans) > 1
	var last *solver.Result
	for _, plan := range plans {
		if multi {
			prefix.set(plan.Platform + " ")
		}
		res, err := b.Build(ctx, plan)
		if err != nil {
			if multi {
				return fmt.Errorf("%s: %w", plan.Platform, err)
			}
			return err
		}
		for _, e := range stepEntries(res, multi) {
			fmt.Fprintln(w, e)
		}
		last = res
	}
	if progress != nil {
		progress.printf("plan: %d steps would run, %d cached; nothing was built\n", last.Executed, last.Cached)
	}
	return nil
}
