package main

import (
	"encoding/json"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stratabuild/strata/internal/testregistry"
	"github.com/stratabuild/strata/solver"
)

// Tests of the cache looking after itself: builds at once on one cache,
// the size cap, strata prune and strata cache du.

// parallel runs strata once per argument list, all at the same time.
func parallel(t *testing.T, runs ...[]string) []result {
	t.Helper()
	strataBin(t) // built once, before the goroutines
	out := make([]result, len(runs))
	var wg sync.WaitGroup
	for i, args := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = strata(t, args...)
		}()
	}
	wg.Wait()
	for i, r := range out {
		if r.code != 0 {
			t.Fatalf("strata %s: exit %d\n%s", strings.Join(runs[i], " "), r.code, r.stderr)
		}
	}
	return out
}

func TestConcurrentBuilds(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	a := writeContext(t, "FROM "+base+"\nCOPY a.txt /a.txt\nRUN cat /a.txt /a.txt > /ra\nCOPY b.txt /b.txt\nRUN wc -c /b.txt > /rb\n",
		map[string]string{"a.txt": "A\n", "b.txt": "BB\n"})
	b := writeContext(t, "FROM "+base+"\nCOPY x.txt /x.txt\nRUN sleep 0.2; cat /x.txt > /rx\nCOPY y.txt /y.txt\nRUN echo y >> /y.txt\n",
		map[string]string{"x.txt": "X\n", "y.txt": "Y\n"})
	build := func(dir string) []string { return []string{"build", "--progress=plain", "--cache-dir", cache, dir} }
	first := parallel(t, build(a), build(b))
	again := parallel(t, build(a), build(b))
	for i := range first {
		if n := stepsRun(t, again[i]); n != 0 {
			t.Errorf("rebuild %d ran %d steps, want all from the cache:\n%s", i, n, again[i].stderr)
		}
		if again[i].stdout != first[i].stdout {
			t.Errorf("rebuild %d gave %s, first build %s", i, again[i].stdout, first[i].stdout)
		}
	}

	// The same Dockerfile twice at once: each step runs once, in one of
	// the builds, and both give the same image (the RUN output is random).
	same := writeContext(t, "FROM "+base+"\nCOPY c.txt /c.txt\nRUN od -An -N16 /dev/urandom > /rand; sleep 0.3\nRUN cat /rand /c.txt > /both\n",
		map[string]string{"c.txt": "C\n"})
	rs := parallel(t, build(same), build(same))
	if rs[0].stdout != rs[1].stdout || !digestRE.MatchString(strings.TrimSpace(rs[0].stdout)) {
		t.Errorf("the same Dockerfile built at once gave %q and %q, want one digest", rs[0].stdout, rs[1].stdout)
	}
	if n := stepsRun(t, rs[0]) + stepsRun(t, rs[1]); n != 3 {
		t.Errorf("the two builds ran %d steps between them, want each of the 3 once:\n%s\n%s", n, rs[0].stderr, rs[1].stderr)
	}
}

// diskBytes is the size of everything under dir as strata cache du counts
// it: regular files and symlinks, a file with several links once.
func diskBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var total int64
	seen := map[uint64]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() && info.Mode()&fs.ModeSymlink == 0 {
			return nil
		}
		if ino := info.Sys().(*syscall.Stat_t).Ino; !seen[ino] {
			seen[ino] = true
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}

// du is strata cache du --format json, checked against the bytes on disk.
func du(t *testing.T, cache string) solver.Usage {
	t.Helper()
	r := mustStrata(t, "cache", "du", "--cache-dir", cache, "--format", "json")
	var u solver.Usage
	if err := json.Unmarshal([]byte(r.stdout), &u); err != nil {
		t.Fatalf("cache du --format json: %v\n%s", err, r.stdout)
	}
	if want := diskBytes(t, cache); u.Total != want {
		t.Errorf("cache du total = %d, want the %d bytes of files in the cache", u.Total, want)
	}
	return u
}

func usageKinds(u solver.Usage) map[string]int {
	m := map[string]int{}
	for _, e := range u.Entries {
		m[e.Kind]++
	}
	return m
}

func TestCacheSizeCapPruneAndDu(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	cache := t.TempDir()
	base := busyboxBase(t, reg, cache)
	big := writeContext(t, "FROM "+base+"\nCOPY f.txt /f.txt\nRUN head -c 3000000 /dev/urandom > /big\n",
		map[string]string{"f.txt": "file\n"})
	mustStrata(t, "build", "--cache-dir", cache, big)

	u := du(t, cache)
	kinds := usageKinds(u)
	if kinds[solver.KindLayer] < 3 || kinds[solver.KindImage] != 1 || kinds[solver.KindContext] < 2 {
		t.Errorf("cache du kinds %v, want layers (busybox, COPY, RUN), the base image and the contexts", kinds)
	}
	if u.Total < 3000000 {
		t.Errorf("cache du total %d, want at least the 3 MB the RUN wrote", u.Total)
	}
	table := mustStrata(t, "cache", "du", "--cache-dir", cache, "--verbose").stdout
	for _, want := range []string{"KIND", "LAST USED", "layer", "image", "context", "head -c 3000000", "layers/", "total", humanSize(u.Total)} {
		if !strings.Contains(table, want) {
			t.Errorf("cache du table lacks %q:\n%s", want, table)
		}
	}

	// A build under a cap smaller than the cache leaves it under the cap,
	// and what it evicted is built again next time.
	small := writeContext(t, "FROM "+base+"\nRUN echo small > /s\n", map[string]string{})
	r := mustStrata(t, "build", "--progress=plain", "--cache-dir", cache, "--cache-max-size", "1MiB", small)
	if !strings.Contains(r.stderr, "cache: evicted") {
		t.Errorf("no eviction reported:\n%s", r.stderr)
	}
	if u := du(t, cache); u.Total > 1<<20 {
		t.Errorf("after a build with --cache-max-size 1MiB the cache holds %d bytes: %+v", u.Total, u.Entries)
	}
	if n := stepsRun(t, mustStrata(t, "build", "--progress=plain", "--cache-dir", cache, big)); n != 2 {
		t.Errorf("rebuild after eviction ran %d steps, want the 2 evicted ones", n)
	}

	// prune without flags keeps cache mounts; --all removes them too.
	mount := writeContext(t, "FROM "+base+"\nRUN --mount=type=cache,target=/c echo kept > /c/f; cp /c/f /f\n", map[string]string{})
	mustStrata(t, "build", "--cache-dir", cache, mount)
	out := mustStrata(t, "prune", "--cache-dir", cache).stdout
	if !strings.Contains(out, "freed") || !strings.Contains(out, "layer") {
		t.Errorf("prune output:\n%s", out)
	}
	if got := usageKinds(du(t, cache)); len(got) != 1 || got[solver.KindCacheMount] != 1 {
		t.Errorf("after prune: %v, want the cache mount only", got)
	}
	mustStrata(t, "prune", "--cache-dir", cache, "--all")
	if u := du(t, cache); u.Total != 0 || len(u.Entries) != 0 {
		t.Errorf("after prune --all: %d bytes, %+v", u.Total, u.Entries)
	}
	mustStrata(t, "build", "--cache-dir", cache, small)
	mustStrata(t, "prune", "--cache-dir", cache, "--keep-storage", "0")
	if u := du(t, cache); u.Total != 0 {
		t.Errorf("after prune --keep-storage 0: %d bytes, %+v", u.Total, u.Entries)
	}
}

func TestCacheFlagErrors(t *testing.T) {
	cache := t.TempDir()
	ctxDir := writeContext(t, "FROM scratch\n", map[string]string{})
	for _, tt := range []struct {
		args []string
		flag string
	}{
		{[]string{"build", "--cache-dir", cache, "--cache-max-size", "10XB", ctxDir}, "--cache-max-size"},
		{[]string{"build", "--cache-dir", cache, "--cache-max-size", "-1G", ctxDir}, "--cache-max-size"},
		{[]string{"prune", "--cache-dir", cache, "--keep-storage", "lots"}, "--keep-storage"},
		{[]string{"prune", "--cache-dir", cache, "--keep-storage", "1G", "--all"}, "--all"},
		{[]string{"cache", "du", "--cache-dir", cache, "--format", "xml"}, "--format"},
	} {
		r := strata(t, tt.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tt.flag) {
			t.Errorf("strata %s: exit %d, stderr %q; want 2 naming %s", strings.Join(tt.args, " "), r.code, r.stderr, tt.flag)
		}
	}
	// Sizes as docker reads them.
	for s, want := range map[string]int64{"10GB": 10 << 30, "512MiB": 512 << 20, "1.5G": 3 << 29, "0": 0, "100": 100} {
		if got, err := parseSize("x", s); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v, want %d", s, got, err, want)
		}
	}
}
