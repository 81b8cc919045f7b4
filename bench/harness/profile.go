package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// summarizeProfiles writes bench/profiles/SCENARIO.txt: `go tool pprof -top -cum` (15
// nodes) of the CPU profile of strata's median run of each scenario.
func (h *harness) summarizeProfiles(ctx context.Context) error {
	out := filepath.Join(h.cfg.repo, "bench", "profiles")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	goBin := "go"
	if _, err := exec.LookPath(goBin); err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	for _, sr := range h.results.Scenarios {
		t, ok := sr.Tools["strata"]
		if !ok || len(t.Profiles) != len(t.Seconds) {
			continue
		}
		best := 0
		for i, s := range t.Seconds {
			if math.Abs(s-t.Median) < math.Abs(t.Seconds[best]-t.Median) {
				best = i
			}
		}
		prof := t.Profiles[best]
		cmd := exec.CommandContext(ctx, goBin, "tool", "pprof", "-top", "-cum", "-nodecount=15", h.strata, prof)
		top, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("go tool pprof %s: %v: %s", prof, err, top)
		}
		name := filepath.Join(out, strings.ReplaceAll(sr.Name, " ", "-")+".txt")
		head := fmt.Sprintf("# %s, %s: run of %.2f s (median %.2f s), %s\n# go tool pprof -top -cum -nodecount=15 bin/strata %s\n",
			h.results.Tools["strata"], sr.Name, t.Seconds[best], t.Median, h.results.Date, filepath.Base(prof))
		if err := os.WriteFile(name, append([]byte(head), top...), 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("\nCPU profiles of strata's timed builds: %s\npprof summaries (median run per scenario): %s\n", h.cfg.profileDir, out)
	return nil
}
