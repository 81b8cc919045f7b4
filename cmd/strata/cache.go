package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	units "github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/stratabuild/strata/solver"
)

// resolveCacheDir is --cache-dir, by default $XDG_CACHE_HOME/strata, made
// absolute (runc and overlay need absolute paths).
func resolveCacheDir(flag string) (string, error) {
	dir := flag
	if dir == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return "", usagef("no --cache-dir and no home directory: %v", err)
			}
			base = filepath.Join(home, ".cache")
		}
		dir = filepath.Join(base, "strata")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", usagef("--cache-dir: %v", err)
	}
	return abs, nil
}

// parseSize reads a size as docker does (--memory, buildx prune
// --keep-storage): a number with an optional unit, B, K, M, G, T or P,
// which may end in B or iB; every unit is a power of 1024, so 10GB is
// 10 GiB.
func parseSize(flag, s string) (int64, error) {
	n, err := units.RAMInBytes(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return 0, usagef("--%s %q: not a size (want e.g. 10GB, 512MiB or 1.5G)", flag, s)
	}
	return n, nil
}

func humanSize(n int64) string { return units.BytesSize(float64(n)) }

func newPruneCommand() *cobra.Command {
	var cacheDir, keep string
	var all bool
	cmd := &cobra.Command{
		Use:   "prune [flags]",
		Short: "Remove entries from the build cache",
		Long: "Remove entries from the build cache. Without flags, everything but RUN cache mounts goes;\n" +
			"--keep-storage SIZE removes the least recently used entries until the cache is at most SIZE;\n" +
			"--all removes everything, cache mounts included. Prune waits for running builds to finish.\n" +
			"What was removed is printed on stdout.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := solver.PruneOptions{All: all, KeepCacheMounts: true}
			if cmd.Flags().Changed("keep-storage") {
				if all {
					return usagef("--keep-storage and --all: give one of them")
				}
				n, err := parseSize("keep-storage", keep)
				if err != nil {
					return err
				}
				opts.KeepStorage, opts.KeepCacheMounts = n, false
			}
			dir, err := resolveCacheDir(cacheDir)
			if err != nil {
				return err
			}
			stderr := cmd.ErrOrStderr()
			opts.OnWait = func() { fmt.Fprintf(stderr, "waiting for the builds running on %s to finish...\n", dir) }
			rep, err := solver.Prune(cmd.Context(), dir, opts)
			if rep != nil {
				printPruned(cmd.OutOrStdout(), rep)
			}
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cacheDir, "cache-dir", "", "cache directory (default $XDG_CACHE_HOME/strata)")
	fl.StringVar(&keep, "keep-storage", "", "remove the least recently used entries until the cache is at most this size (e.g. 10GB, 512MiB; 0 empties it)")
	fl.BoolVar(&all, "all", false, "remove everything, RUN cache mounts included")
	return cmd
}

func printPruned(w io.Writer, rep *solver.PruneReport) {
	if len(rep.Removed) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tID\tFREED\tDESCRIPTION")
		for _, e := range rep.Removed {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Kind, shortID(e.ID), humanSize(e.Size), shorten(e.Description, 60))
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "freed %s (%d entries); the cache holds %s\n", humanSize(rep.Freed), len(rep.Removed), humanSize(rep.Remaining))
}

func newCacheCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "Inspect the build cache",
		Args:  cobra.NoArgs,
	}
	var cacheDir, format string
	var verbose bool
	du := &cobra.Command{
		Use:   "du [flags]",
		Short: "Show what uses the space of the build cache",
		Long: "Show the entries of the build cache, largest first, with their kind, size and last use,\n" +
			"and the total. Sizes are apparent sizes: the bytes of every file, a file with several links\n" +
			"counted once.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return usagef("--format %q: want table or json", format)
			}
			dir, err := resolveCacheDir(cacheDir)
			if err != nil {
				return err
			}
			u, err := solver.DiskUsage(dir)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(u)
			}
			printUsage(out, u, verbose, time.Now())
			return nil
		},
	}
	fl := du.Flags()
	fl.StringVar(&cacheDir, "cache-dir", "", "cache directory (default $XDG_CACHE_HOME/strata)")
	fl.StringVar(&format, "format", "table", "output format: table or json")
	fl.BoolVarP(&verbose, "verbose", "v", false, "list the files and folders of each entry")
	cmd.AddCommand(du)
	return cmd
}

func printUsage(w io.Writer, u *solver.Usage, verbose bool, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tID\tSIZE\tLAST USED\tDESCRIPTION")
	for _, e := range u.Entries {
		used := "-"
		if !e.LastUsed.IsZero() {
			used = units.HumanDuration(now.Sub(e.LastUsed)) + " ago"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Kind, shortID(e.ID), humanSize(e.Size), used, shorten(e.Description, 60))
		if verbose {
			for _, p := range e.Paths {
				fmt.Fprintf(tw, "\t\t\t\t  %s\n", p)
			}
		}
	}
	fmt.Fprintf(tw, "total\t%d entries\t%s\t\t\n", len(u.Entries), humanSize(u.Total))
	tw.Flush()
}

// shortID shortens digests to 12 hex digits, as docker does.
func shortID(id string) string {
	hex := strings.TrimPrefix(id, "sha256:")
	if len(hex) <= 12 || strings.Trim(hex, "0123456789abcdef") != "" {
		return id
	}
	return hex[:12]
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
