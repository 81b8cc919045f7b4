package main

import (
	"testing"
)

func TestStats(t *testing.T) {
	for _, tc := range []struct {
		name           string
		in             []float64
		median, lo, hi float64
	}{
		{"one", []float64{2}, 2, 2, 2},
		{"odd", []float64{3, 1, 2}, 2, 1, 3},
		{"even", []float64{4, 1, 3, 2}, 2.5, 1, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, lo, hi := stats(tc.in)
			if m != tc.median || lo != tc.lo || hi != tc.hi {
				t.Errorf("stats(%v) = %v, %v, %v, want %v, %v, %v", tc.in, m, lo, hi, tc.median, tc.lo, tc.hi)
			}
		})
	}
}

// The ratio is strata's median over the fastest peer's; cachefrom is over cold, per tool.
func TestSummarize(t *testing.T) {
	r := newResults(config{runs: 1, bigRuns: 1})
	for tool, secs := range map[string][]float64{"strata": {1, 2, 3}, "buildah": {8, 9, 10}, "buildkit": {4, 4, 5}} {
		for _, s := range secs {
			r.add("small cold", tool, sample{Seconds: s})
			r.add("small cachefrom", tool, sample{Seconds: s / 2})
		}
	}
	r.summarize([]string{"strata", "buildah", "buildkit"})
	sr := r.scenario("small cold")
	if sr == nil || sr.FastestPeer != "buildkit" || sr.Ratio == nil || *sr.Ratio != 0.5 {
		t.Fatalf("summarize: small cold = %+v, want fastest peer buildkit, ratio 0.5", sr)
	}
	if got := r.CacheFrom["small"]["buildah"]; got != 0.5 {
		t.Errorf("CacheFrom[small][buildah] = %v, want 0.5", got)
	}
}
