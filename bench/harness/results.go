package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// sample is one timed command.
type sample struct {
	Seconds      float64
	RSSKiB       int64 // the client's peak RSS (/usr/bin/time %M), its children included
	OwnRSSKiB    int64 // the client process's own peak RSS (VmHWM, sampled)
	DaemonRSSKiB int64 // the daemon's peak RSS (VmHWM), 0 without a daemon
	BlobUploads  *int  // blob uploads the registry saw (push scenarios)
	Profile      string
}

// results is what results.json holds.
type results struct {
	Date        string                        `json:"date"`
	Machine     machine                       `json:"machine"`
	Runs        int                           `json:"runs"`
	BigRuns     int                           `json:"big_runs"`
	StrataFlags []string                      `json:"strata_flags,omitempty"`
	Tools       map[string]string             `json:"tools"`
	Skipped     []string                      `json:"skipped_tools,omitempty"`
	Inputs      map[string]map[string]any     `json:"inputs"`
	Scenarios   []scenarioResult              `json:"scenarios"`
	CacheFrom   map[string]map[string]float64 `json:"cachefrom_over_cold"`
	Limits      *limits                       `json:"limits,omitempty"`
	WallSeconds float64                       `json:"wall_seconds"`

	samples map[string]map[string][]sample // scenario → tool → samples
	lacks   map[string]map[string]string   // scenario → tool → why it did not run
}

type machine struct {
	CPUs     int    `json:"nproc"`
	Kernel   string `json:"kernel"`
	CPUModel string `json:"cpu_model"`
	MemMiB   int64  `json:"mem_mib"`
}

type scenarioResult struct {
	Name        string                `json:"name"`
	Tools       map[string]toolResult `json:"tools"`
	NotRun      map[string]string     `json:"not_run,omitempty"`
	FastestPeer string                `json:"fastest_peer,omitempty"`
	Ratio       *float64              `json:"ratio_strata_fastest_peer"`
}

type toolResult struct {
	Seconds         []float64 `json:"seconds"`
	Median          float64   `json:"median_seconds"`
	Min             float64   `json:"min_seconds"`
	Max             float64   `json:"max_seconds"`
	RSS             []int64   `json:"peak_rss_kib"`
	MedianRSS       int64     `json:"median_peak_rss_kib"`
	OwnRSS          []int64   `json:"own_peak_rss_kib"`
	MedianOwnRSS    int64     `json:"median_own_peak_rss_kib"`
	DaemonRSS       []int64   `json:"daemon_peak_rss_kib,omitempty"`
	MedianDaemonRSS int64     `json:"median_daemon_peak_rss_kib,omitempty"`
	BlobUploads     []int     `json:"blob_uploads,omitempty"`
	Profiles        []string  `json:"cpu_profiles,omitempty"`
}

func newResults(cfg config) *results {
	return &results{
		Date:        time.Now().UTC().Format(time.RFC3339),
		Machine:     machineInfo(),
		Runs:        cfg.runs,
		BigRuns:     cfg.bigRuns,
		StrataFlags: cfg.strataFlags,
		Tools:       map[string]string{},
		Inputs:      map[string]map[string]any{},
		CacheFrom:   map[string]map[string]float64{},
		samples:     map[string]map[string][]sample{},
		lacks:       map[string]map[string]string{},
	}
}

func (r *results) add(scenario, tool string, s sample) {
	if r.samples[scenario] == nil {
		r.samples[scenario] = map[string][]sample{}
	}
	r.samples[scenario][tool] = append(r.samples[scenario][tool], s)
}

func (r *results) lack(scenario, tool, why string) {
	if r.lacks[scenario] == nil {
		r.lacks[scenario] = map[string]string{}
	}
	r.lacks[scenario][tool] = why
}

// summarize fills Scenarios and CacheFrom from the samples.
func (r *results) summarize(tools []string) {
	r.Scenarios = nil
	for _, name := range scenarios {
		by := r.samples[name]
		if len(by) == 0 {
			continue
		}
		sr := scenarioResult{Name: name, Tools: map[string]toolResult{}, NotRun: r.lacks[name]}
		for _, tool := range tools {
			ss := by[tool]
			if len(ss) == 0 {
				continue
			}
			var tr toolResult
			for _, s := range ss {
				tr.Seconds = append(tr.Seconds, s.Seconds)
				tr.RSS = append(tr.RSS, s.RSSKiB)
				tr.OwnRSS = append(tr.OwnRSS, s.OwnRSSKiB)
				if s.DaemonRSSKiB != 0 {
					tr.DaemonRSS = append(tr.DaemonRSS, s.DaemonRSSKiB)
				}
				if s.BlobUploads != nil {
					tr.BlobUploads = append(tr.BlobUploads, *s.BlobUploads)
				}
				if s.Profile != "" {
					tr.Profiles = append(tr.Profiles, s.Profile)
				}
			}
			tr.Median, tr.Min, tr.Max = stats(tr.Seconds)
			tr.MedianRSS = medianInt(tr.RSS)
			tr.MedianOwnRSS = medianInt(tr.OwnRSS)
			tr.MedianDaemonRSS = medianInt(tr.DaemonRSS)
			sr.Tools[tool] = tr
		}
		if s, ok := sr.Tools["strata"]; ok {
			for _, tool := range tools {
				p, ok := sr.Tools[tool]
				if tool == "strata" || !ok {
					continue
				}
				if sr.FastestPeer == "" || p.Median < sr.Tools[sr.FastestPeer].Median {
					sr.FastestPeer = tool
				}
			}
			if sr.FastestPeer != "" && sr.Tools[sr.FastestPeer].Median > 0 {
				ratio := s.Median / sr.Tools[sr.FastestPeer].Median
				sr.Ratio = &ratio
			}
		}
		r.Scenarios = append(r.Scenarios, sr)
	}
	// What a registry cache buys a cold runner, per tool: cachefrom / cold, from the medians.
	for _, sr := range r.Scenarios {
		bench, ok := strings.CutSuffix(sr.Name, " cachefrom")
		if !ok {
			continue
		}
		cold := r.scenario(bench + " cold")
		if cold == nil {
			continue
		}
		for tool, with := range sr.Tools {
			if without, ok := cold.Tools[tool]; ok && without.Median > 0 {
				if r.CacheFrom[bench] == nil {
					r.CacheFrom[bench] = map[string]float64{}
				}
				r.CacheFrom[bench][tool] = with.Median / without.Median
			}
		}
	}
}

func (r *results) scenario(name string) *scenarioResult {
	for i := range r.Scenarios {
		if r.Scenarios[i].Name == name {
			return &r.Scenarios[i]
		}
	}
	return nil
}

func (r *results) write(name string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(name, append(data, '\n'), 0o644)
}

// stats returns the median, min and max.
func stats(v []float64) (median, lo, hi float64) {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n == 0 {
		return 0, 0, 0
	}
	median = s[n/2]
	if n%2 == 0 {
		median = (s[n/2-1] + s[n/2]) / 2
	}
	return median, s[0], s[n-1]
}

func medianInt(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	f := make([]float64, len(v))
	for i, x := range v {
		f[i] = float64(x)
	}
	m, _, _ := stats(f)
	return int64(m)
}

func machineInfo() machine {
	m := machine{CPUs: runtime.NumCPU()}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			var kib int64
			if _, err := fmt.Sscanf(line, "MemTotal: %d kB", &kib); err == nil {
				m.MemMiB = kib / 1024
				break
			}
		}
	}
	return m
}
