package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// report prints the table, the registry cache ratios, the blob uploads and the limits.
func (h *harness) report(w io.Writer) {
	r := h.results
	names := r.toolOrder()
	r.summarize(names)

	fmt.Fprintf(w, "\nstrata against its peers, %d runs (small, multistage) and %d runs (big10k, apt), %d cores, %s\n\n",
		r.Runs, r.BigRuns, r.Machine.CPUs, r.Date)
	var table [][]string
	head := []string{"scenario\t"}
	for _, n := range names {
		head = append(head, n+" s\t")
	}
	head = append(head, "strata/fastest peer\t")
	for i, n := range names {
		label := n
		if i == 0 {
			label = "MiB " + n
		}
		head = append(head, label+"\t")
	}
	table = append(table, head)
	for _, sr := range r.Scenarios {
		row := []string{sr.Name + "\t"}
		for _, n := range names {
			t, ok := sr.Tools[n]
			if !ok {
				row = append(row, "-\t")
				continue
			}
			row = append(row, fmt.Sprintf("%.2f (%.2f-%.2f)\t", t.Median, t.Min, t.Max))
		}
		if sr.Ratio != nil {
			row = append(row, fmt.Sprintf("%.2f %s\t", *sr.Ratio, sr.FastestPeer))
		} else {
			row = append(row, "-\t")
		}
		for _, n := range names {
			t, ok := sr.Tools[n]
			switch {
			case !ok:
				row = append(row, "-\t")
			case t.MedianDaemonRSS != 0:
				row = append(row, fmt.Sprintf("%s/%s\t", mib(t.MedianRSS), mib(t.MedianDaemonRSS)))
			default:
				row = append(row, fmt.Sprintf("%s/%s\t", mib(t.MedianRSS), mib(t.MedianOwnRSS)))
			}
		}
		table = append(table, row)
	}
	printTable(w, table)

	fmt.Fprintln(w, `
Times are wall seconds, median (min-max). strata/fastest peer: strata's median over the
fastest other tool's median. MiB: median peak RSS, two numbers per tool:
  strata, buildah: /usr/bin/time %M of the command (the largest single process of its tree,
    so it includes runc and what RUN steps run, e.g. apt-get) / the strata or buildah process
    alone (VmHWM, sampled every 10 ms).
  buildkit: buildctl's %M / buildkitd's VmHWM during the build (reset before each build, a
    new buildkitd for each cold run; runc and RUN processes are not included).
  docker: the docker client's %M / dockerd's VmHWM during the build (containerd, runc and
    RUN processes not included).`)

	var notRun []string
	for _, sr := range r.Scenarios {
		for tool, why := range sr.NotRun {
			notRun = append(notRun, fmt.Sprintf("  %s, %s: %s", sr.Name, tool, why))
		}
	}
	sort.Strings(notRun)
	if len(notRun) > 0 {
		fmt.Fprintln(w, "\nNot run (-):")
		fmt.Fprintln(w, strings.Join(notRun, "\n"))
	}
	for _, s := range h.skipped {
		fmt.Fprintf(w, "Skipped tool: %s\n", s)
	}

	fmt.Fprintln(w)
	for _, bench := range []string{"multistage", "small"} {
		by := r.CacheFrom[bench]
		if len(by) == 0 {
			continue
		}
		line := bench + ": cold runner with a registry cache / without:"
		for _, n := range names {
			if v, ok := by[n]; ok {
				line += fmt.Sprintf(" %s %.2f", n, v)
			}
		}
		fmt.Fprintln(w, line)
	}
	for _, name := range []string{"big10k push", "big10k re-push"} {
		sr := r.scenario(name)
		if sr == nil {
			continue
		}
		line := name + ": blob uploads the registry saw (per run):"
		for _, n := range names {
			if t, ok := sr.Tools[n]; ok {
				line += fmt.Sprintf(" %s %v", n, t.BlobUploads)
			}
		}
		fmt.Fprintln(w, line)
	}
	if r.Limits != nil {
		r.Limits.print(w)
	}
	fmt.Fprintf(w, "\nharness wall time %.0f s (all but make build)\n", r.WallSeconds)
}

// toolOrder lists the tools that ran, in allTools order.
func (r *results) toolOrder() []string {
	var out []string
	for _, t := range allTools {
		if _, ok := r.Tools[t]; ok {
			out = append(out, t)
		}
	}
	return out
}

// printTable prints cells (each ending in a tab) in columns: the first left-aligned, the
// others right-aligned.
func printTable(w io.Writer, rows [][]string) {
	var width []int
	for _, row := range rows {
		for i, c := range row {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len(strings.TrimSuffix(c, "\t")))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, c := range row {
			c = strings.TrimSuffix(c, "\t")
			if i == 0 {
				fmt.Fprintf(&b, "%-*s", width[i], c)
			} else {
				fmt.Fprintf(&b, "  %*s", width[i], c)
			}
		}
		fmt.Fprintln(w, b.String())
	}
}

func mib(kib int64) string { return fmt.Sprintf("%.0f", float64(kib)/1024) }
