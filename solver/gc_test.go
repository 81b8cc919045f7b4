package solver

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sys/unix"
)

// fakeCache makes a cache directory by hand: layers, blobs and key records
// with chosen sizes and last-use times.
type fakeCache struct {
	t   *testing.T
	s   *store
	dir string
}

func newFakeCache(t *testing.T, dir string) *fakeCache {
	t.Helper()
	s, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeCache{t: t, s: s, dir: dir}
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// at is a last-use time, in hours after epoch.
func at(h int) time.Time { return epoch.Add(time.Duration(h) * time.Hour) }

func (c *fakeCache) touch(p string, t time.Time) {
	c.t.Helper()
	if err := os.Chtimes(p, t, t); err != nil {
		c.t.Fatal(err)
	}
}

// blob stores n bytes made from name as a blob.
func (c *fakeCache) blob(name string, n int, t time.Time) v1.Hash {
	c.t.Helper()
	data := []byte(strings.Repeat(name, n)[:n])
	h := v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256(data))}
	if err := c.s.blobs.Write(strings.NewReader(string(data)), h); err != nil {
		c.t.Fatal(err)
	}
	c.touch(c.s.blobs.Path(h), t)
	return h
}

// layer makes an unpacked layer of n bytes, a blob record listing blobs,
// and a key record of the step that made it, all last used at t. It
// returns the step's key and the layer's diff ID.
func (c *fakeCache) layer(name string, n int, t time.Time, blobs ...v1.Hash) (key, diffID v1.Hash) {
	c.t.Helper()
	diffID = hashKey("layer", name)
	key = hashKey("key", name)
	dir := c.s.layerDir(diffID)
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc", name), []byte(strings.Repeat("x", n)), 0o644); err != nil {
		c.t.Fatal(err)
	}
	for _, b := range blobs {
		if err := c.s.recordBlob(layer{DiffID: diffID, Digest: b, Size: 1, MediaType: types.OCILayer}); err != nil {
			c.t.Fatal(err)
		}
	}
	if err := c.s.saveKey(key, keyRecord{DiffID: diffID, Created: t, Step: "RUN make " + name}); err != nil {
		c.t.Fatal(err)
	}
	c.touch(c.s.keyPath(key), t)
	if len(blobs) > 0 {
		c.touch(c.s.blobRecordPath(diffID), t)
	}
	return key, diffID
}

// walkSize is the size of everything under dir as DiskUsage counts it,
// found independently: regular files and symlinks, hard links once.
func walkSize(t *testing.T, dir string) int64 {
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
		ino := info.Sys().(*syscall.Stat_t).Ino
		if !seen[ino] {
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

func usage(t *testing.T, dir string) *Usage {
	t.Helper()
	u, err := DiskUsage(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := walkSize(t, dir); u.Total != got {
		t.Errorf("DiskUsage total = %d, want the %d bytes of files under %s", u.Total, got, dir)
	}
	return u
}

func kinds(u *Usage) map[string]int {
	m := map[string]int{}
	for _, e := range u.Entries {
		m[e.Kind]++
	}
	return m
}

func TestEvictLeastRecentlyUsed(t *testing.T) {
	c := newFakeCache(t, t.TempDir())
	var keys, diffIDs, blobs []v1.Hash
	for i, name := range []string{"a", "b", "c", "d"} {
		b := c.blob(name, 100, at(i))
		k, d := c.layer(name, 1000, at(i), b)
		keys, diffIDs, blobs = append(keys, k), append(diffIDs, d), append(blobs, b)
	}
	before := usage(t, c.dir)
	if got := kinds(before); got[KindLayer] != 4 || len(before.Entries) != 4 {
		t.Fatalf("entries %v, want 4 layers", got)
	}
	// Room for the two newest layers only.
	limit := before.Total/2 + 50
	rep, err := Prune(context.Background(), c.dir, PruneOptions{KeepStorage: limit})
	if err != nil {
		t.Fatal(err)
	}
	var removed []string
	for _, e := range rep.Removed {
		removed = append(removed, e.ID)
	}
	if want := []string{diffIDs[0].String(), diffIDs[1].String()}; strings.Join(removed, " ") != strings.Join(want, " ") {
		t.Errorf("removed %v, want the two oldest %v", removed, want)
	}
	after := usage(t, c.dir)
	if after.Total > limit || rep.Remaining != after.Total || rep.Freed != before.Total-after.Total {
		t.Errorf("after: total %d (limit %d), report remaining %d freed %d, before %d", after.Total, limit, rep.Remaining, rep.Freed, before.Total)
	}
	for i := range keys {
		_, hit := c.s.lookupKey(keys[i])
		_, blobErr := c.s.blobs.Size(blobs[i])
		hasRecord := fileExists(c.s.blobRecordPath(diffIDs[i]))
		kept := i >= 2
		if hit != kept || (blobErr == nil) != kept || hasRecord != kept || fileExists(c.s.keyPath(keys[i])) != kept {
			t.Errorf("layer %d: hit %v, blob %v, record %v; want all kept = %v", i, hit, blobErr, hasRecord, kept)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(c.dir, "tmp")); len(entries) != 0 {
		t.Errorf("tmp has %d entries after eviction", len(entries))
	}
}

func fileExists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func TestEvictSharedBlob(t *testing.T) {
	c := newFakeCache(t, t.TempDir())
	shared := c.blob("s", 5000, at(0))
	kOld, _ := c.layer("old", 10, at(1), shared)
	kNew, _ := c.layer("new", 10, at(2), shared)
	u := usage(t, c.dir)
	// The shared blob counts once, for the entry that frees it.
	for _, e := range u.Entries {
		if e.Kind != KindLayer {
			t.Errorf("entry %s %s, want layers only", e.Kind, e.ID)
		}
		if e.Description == "RUN make new" && e.Size < 5000 {
			t.Errorf("newest layer has size %d, want the shared blob's 5000 counted in", e.Size)
		}
	}
	rep, err := Prune(context.Background(), c.dir, PruneOptions{KeepStorage: u.Total - 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Removed) != 1 || rep.Removed[0].Description != "RUN make old" {
		t.Fatalf("removed %+v, want the old layer", rep.Removed)
	}
	if !c.s.blobs.Has(shared) {
		t.Errorf("the blob the remaining layer lists was removed")
	}
	if _, hit := c.s.lookupKey(kNew); !hit {
		t.Errorf("the remaining layer's key misses")
	}
	if _, hit := c.s.lookupKey(kOld); hit {
		t.Errorf("the evicted layer's key hits")
	}
	if _, err := Prune(context.Background(), c.dir, PruneOptions{KeepStorage: 0}); err != nil {
		t.Fatal(err)
	}
	if c.s.blobs.Has(shared) {
		t.Errorf("the shared blob outlived both layers")
	}
}

// fillAllKinds gives the cache one entry of every kind.
func fillAllKinds(t *testing.T, c *fakeCache) {
	t.Helper()
	lb := c.blob("l", 300, at(1))
	c.layer("run", 400, at(2), lb)
	cfg := c.blob("{}", 2, at(3))
	man := c.blob("m", 50, at(3))
	rec := imageRecord{Ref: "example.com/base:1", Manifest: man, Config: cfg}
	p := filepath.Join(c.dir, "images", man.Hex+".json")
	if err := writeJSON(c.s, p, rec); err != nil {
		t.Fatal(err)
	}
	c.blob("orphan", 70, at(0))
	for _, d := range []string{"context/0123456789abcdef/root/src", "cachemounts/00112233445566778899aabbccddeeff/0", "git/001122334455667788990011.git/objects"} {
		if err := os.MkdirAll(filepath.Join(c.dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(c.dir, d, "f"), []byte("content"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(c.dir, "context/0123456789abcdef/source"), []byte("/src/app"), 0o644)
	os.WriteFile(filepath.Join(c.dir, "context/0123456789abcdef.lock"), nil, 0o644)
	os.WriteFile(filepath.Join(c.dir, "cachemounts/00112233445566778899aabbccddeeff/id"), []byte(`"/root/.cache"`), 0o644)
	os.WriteFile(filepath.Join(c.dir, "git/001122334455667788990011.git.lock"), nil, 0o644)
	// A key record whose layer is not here, and what a killed build left.
	c.s.saveKey(hashKey("lazy"), keyRecord{DiffID: hashKey("elsewhere"), Step: "RUN far"})
	os.MkdirAll(filepath.Join(c.dir, "tmp", "step-123", "upper"), 0o755)
	os.WriteFile(filepath.Join(c.dir, "tmp", "step-123", "upper", "half"), []byte("half"), 0o644)
}

func TestDiskUsageKinds(t *testing.T) {
	c := newFakeCache(t, t.TempDir())
	fillAllKinds(t, c)
	u := usage(t, c.dir)
	want := map[string]int{KindLayer: 1, KindImage: 1, KindBlob: 1, KindContext: 1, KindCacheMount: 1, KindGit: 1, KindKey: 1, KindTemporary: 1}
	if got := kinds(u); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("kinds %v, want %v", got, want)
	}
	desc := map[string]string{}
	for _, e := range u.Entries {
		desc[e.Kind] = e.Description
	}
	if desc[KindImage] != "example.com/base:1" || desc[KindContext] != "/src/app" || desc[KindCacheMount] != `"/root/.cache"` || desc[KindLayer] != "RUN make run" {
		t.Errorf("descriptions %q", desc)
	}
	if !sort.SliceIsSorted(u.Entries, func(i, j int) bool { return u.Entries[i].Size > u.Entries[j].Size }) {
		t.Errorf("entries not largest first")
	}
}

func TestPruneAllAndDefault(t *testing.T) {
	c := newFakeCache(t, t.TempDir())
	fillAllKinds(t, c)
	// Without --all, cache mounts stay.
	rep, err := Prune(context.Background(), c.dir, PruneOptions{KeepCacheMounts: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(usage(t, c.dir)); fmt.Sprint(got) != fmt.Sprint(map[string]int{KindCacheMount: 1}) {
		t.Errorf("after prune: %v, want the cache mount only", got)
	}
	if rep.Freed == 0 || len(rep.Removed) != 6 { // tmp/ is emptied, not an eviction
		t.Errorf("report: %d removed, %d freed", len(rep.Removed), rep.Freed)
	}
	if _, err := Prune(context.Background(), c.dir, PruneOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	if u := usage(t, c.dir); u.Total != 0 || len(u.Entries) != 0 {
		t.Errorf("after prune --all: %d bytes in %+v", u.Total, u.Entries)
	}
	// The cache still works.
	if _, err := openStore(c.dir); err != nil {
		t.Fatal(err)
	}
	c.layer("again", 10, at(9))
}

func TestEvictSkipsWhileBuildRuns(t *testing.T) {
	c := newFakeCache(t, t.TempDir())
	key, _ := c.layer("a", 1000, at(0))
	ours, err := c.s.lockBuild("runc")
	if err != nil {
		t.Fatal(err)
	}
	defer ours.Close()
	other, ok, err := flock(filepath.Join(c.dir, "build.lock"), unix.LOCK_SH|unix.LOCK_NB)
	if err != nil || !ok {
		t.Fatalf("sharing build.lock: %v %v", ok, err)
	}
	rep, err := c.s.evictIfIdle(context.Background(), ours, "runc", 0, false)
	if err != nil || !rep.Skipped || len(rep.Removed) != 0 {
		t.Errorf("with another build running: %+v, %v; want skipped", rep, err)
	}
	// prune waits, here until its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	waited := false
	_, err = Prune(ctx, c.dir, PruneOptions{All: true, OnWait: func() { waited = true }})
	if !errors.Is(err, context.DeadlineExceeded) || !waited {
		t.Errorf("prune under a running build: %v (waited %v), want it to wait", err, waited)
	}
	if _, hit := c.s.lookupKey(key); !hit {
		t.Fatalf("the layer was removed under a running build")
	}
	other()
	ours.Close()
	ours, err = c.s.lockBuild("runc")
	if err != nil {
		t.Fatal(err)
	}
	rep, err = c.s.evictIfIdle(context.Background(), ours, "runc", 1, false)
	if err != nil || rep.Skipped || len(rep.Removed) != 1 {
		t.Errorf("alone: %+v, %v; want the layer evicted", rep, err)
	}
}

func TestStampUsedFirstUseLatest(t *testing.T) {
	c := newFakeCache(t, t.TempDir())
	kBase, _ := c.layer("base", 10, at(0))
	kChild, _ := c.layer("child", 10, at(0))
	c.s.used, c.s.seen = nil, nil
	c.s.lookupKey(kBase)
	c.s.lookupKey(kChild)
	c.s.stampUsed(at(5))
	tb, _ := mtime(c.s.keyPath(kBase))
	tc, _ := mtime(c.s.keyPath(kChild))
	if !tb.After(tc) || tb.Sub(at(5)) != 0 || at(5).Sub(tc) > time.Second {
		t.Errorf("base used at %v, child at %v; want both at about %v, the base last", tb, tc, at(5))
	}
}

// TestPruneKilled kills a prune (SIGKILL, in a child process) before each
// of its removal steps in turn and checks that the cache left is usable:
// every key that hits has its whole layer, and the next prune and build
// work.
func TestPruneKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the test binary many times")
	}
	for n := 1; ; n++ {
		dir := t.TempDir()
		c := newFakeCache(t, dir)
		shared := c.blob("s", 100, at(0))
		var keys []v1.Hash
		for i, name := range []string{"a", "b", "c"} {
			k, _ := c.layer(name, 200, at(i), shared, c.blob(name, 50, at(i)))
			keys = append(keys, k)
		}
		fillAllKinds(t, c)
		cmd := exec.Command(os.Args[0], "-test.run=^TestPruneKilledChild$")
		cmd.Env = append(os.Environ(), "STRATA_GC_CHILD_DIR="+dir, "STRATA_GC_CHILD_KILL="+strconv.Itoa(n))
		out, err := cmd.CombinedOutput()
		killed := false
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
				killed = true
			}
		}
		if err != nil && !killed {
			t.Fatalf("child: %v\n%s", err, out)
		}
		for _, k := range keys {
			rec, hit := c.s.lookupKey(k)
			if hit {
				entries, _ := os.ReadDir(filepath.Join(c.s.layerDir(rec.DiffID), "etc"))
				if len(entries) != 1 {
					t.Errorf("kill %d: key %s hits a layer missing its files", n, k)
				}
			}
		}
		if _, err := openStore(dir); err != nil {
			t.Fatalf("kill %d: %v", n, err)
		}
		c.layer("d", 10, at(9))
		if _, err := Prune(context.Background(), dir, PruneOptions{All: true}); err != nil {
			t.Fatalf("kill %d: prune after: %v", n, err)
		}
		if u := usage(t, dir); u.Total != 0 {
			t.Errorf("kill %d: %d bytes left after prune --all: %+v", n, u.Total, u.Entries)
		}
		if !killed {
			if n < 5 {
				t.Fatalf("the prune finished before kill point %d", n)
			}
			t.Logf("killed the prune at each of its %d steps", n-1)
			return
		}
	}
}

// TestPruneKilledChild is TestPruneKilled's child process: it prunes
// everything and kills itself before removal step STRATA_GC_CHILD_KILL.
func TestPruneKilledChild(t *testing.T) {
	dir := os.Getenv("STRATA_GC_CHILD_DIR")
	if dir == "" {
		t.Skip("run by TestPruneKilled")
	}
	n, _ := strconv.Atoi(os.Getenv("STRATA_GC_CHILD_KILL"))
	steps := 0
	removeHook = func() {
		if steps++; steps == n {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
	if _, err := Prune(context.Background(), dir, PruneOptions{All: true}); err != nil {
		t.Fatal(err)
	}
}

func TestEvictLeftToTheLastBuild(t *testing.T) {
	// A build that ends while another runs leaves eviction to it; when
	// that last build ran no step and added nothing, it still evicts,
	// so a cap is not left exceeded after builds at once.
	c := newFakeCache(t, t.TempDir())
	key, _ := c.layer("a", 1000, at(0))
	first, err := c.s.lockBuild("runc")
	if err != nil {
		t.Fatal(err)
	}
	last, err := c.s.lockBuild("runc")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.s.evictIfIdle(context.Background(), first, "runc", 1, false)
	if err != nil || !rep.Skipped {
		t.Fatalf("with another build running: %+v, %v; want skipped", rep, err)
	}
	first.Close()
	rep, err = c.s.evictIfIdle(context.Background(), last, "runc", 1, true)
	if err != nil || rep.Skipped || len(rep.Removed) != 1 {
		t.Errorf("the last build, which added nothing: %+v, %v; want the layer evicted", rep, err)
	}
	last.Close()
	if _, hit := c.s.lookupKey(key); hit {
		t.Errorf("the cap is exceeded after the builds")
	}

	// With nothing left pending, a build that added nothing does not
	// look at the cache at all.
	key, _ = c.layer("b", 1000, at(1))
	f, err := c.s.lockBuild("runc")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err = c.s.evictIfIdle(context.Background(), f, "runc", 1, true)
	if err != nil || len(rep.Removed) != 0 {
		t.Errorf("nothing pending: %+v, %v; want nothing evicted", rep, err)
	}
	if _, hit := c.s.lookupKey(key); !hit {
		t.Errorf("a build that added nothing evicted with nothing pending")
	}
}
