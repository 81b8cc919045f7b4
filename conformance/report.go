package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// report prints the table of cases, then every difference, and returns how many cases failed.
func report(w io.Writer, results []*Result, verbose bool) int {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tSTRATA\tBUILDKIT\tDIFFERENCES\tDOCUMENTED\tRESULT\tSTRATA TIME\tBUILDKIT TIME")
	failed := 0
	for _, r := range results {
		if !r.Pass() {
			failed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", r.Case.Name,
			buildStatus(r, r.Strata), buildStatus(r, r.BuildKit),
			len(r.Differences), len(r.Documented), r.Verdict(),
			r.Strata.Duration.Round(100*time.Millisecond), r.BuildKit.Duration.Round(100*time.Millisecond))
	}
	tw.Flush()

	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(w, "\n%s: ERROR: %v\n", r.Case.Name, r.Err)
			continue
		}
		undocumented := r.Undocumented()
		if len(undocumented) == 0 && len(r.Stale) == 0 && !verbose {
			continue
		}
		if len(r.Differences) == 0 && len(r.Stale) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s:\n", r.Case.Name)
		for i, d := range r.Differences {
			if e, ok := r.Documented[i]; ok {
				if verbose {
					fmt.Fprintf(w, "  documented  %s\n              (`%s`: %s)\n", d, e.Pattern, e.Reason)
				}
				continue
			}
			fmt.Fprintf(w, "  DIFFERENT   %s\n", d)
		}
		if len(undocumented) > 0 && len(r.Documented) > 0 && !verbose {
			fmt.Fprintf(w, "  (and %d documented differences; -v lists them)\n", len(r.Documented))
		}
		for _, e := range r.Stale {
			fmt.Fprintf(w, "  no longer   `%s` is documented but did not occur in this run: remove it from %s?\n", e.Pattern, expectedDiffsFile)
		}
		if verbose {
			for _, b := range []struct {
				name string
				b    Build
			}{{"strata", r.Strata}, {"buildkit", r.BuildKit}} {
				if !b.b.OK {
					fmt.Fprintf(w, "  %s log:\n%s\n", b.name, indent(tail(b.b.Log, 3000), "    "))
				}
			}
		}
	}
	return failed
}

func buildStatus(r *Result, b Build) string {
	switch {
	case r.Err != nil:
		return "-"
	case b.OK:
		return "ok"
	case r.Case.ExpectError:
		return "fail (expected)"
	}
	return "fail"
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
