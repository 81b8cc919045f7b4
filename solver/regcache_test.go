package solver

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/stratabuild/strata/image"
	"github.com/stratabuild/strata/layers"
)

// cacheRegistry is an in-memory registry on 127.0.0.1.
func cacheRegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// notes collects the Note events of a builder.
type notes struct {
	mu    sync.Mutex
	lines []string
}

func (n *notes) event(e Event) {
	if e.Kind == Note {
		n.mu.Lock()
		n.lines = append(n.lines, e.Line)
		n.mu.Unlock()
	}
}

func (n *notes) String() string { return strings.Join(n.lines, "\n") }

func TestCacheExportImport(t *testing.T) {
	reg := cacheRegistry(t)
	ctx := context.Background()

	// A builder that made one layer for the step with key k.
	a, err := New(Options{CacheDir: t.TempDir(), Compression: layers.Gzip})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("content"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := a.store.packLayer(dir, layers.Gzip)
	if err != nil {
		t.Fatal(err)
	}
	k := hashKey("step")
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a.records[k] = stepRecord{key: k, layer: l, created: created}
	ref := reg + "/team/cache:1"
	if err := a.ExportCache(ctx, CacheExport{CacheRef: CacheRef{Ref: ref}, Max: true}); err != nil {
		t.Fatal(err)
	}

	// A builder on an empty cache imports the record, not the layer.
	var n notes
	b, err := New(Options{CacheDir: t.TempDir(), Compression: layers.Gzip, CacheFrom: []CacheRef{{Ref: ref}}, Progress: n.event})
	if err != nil {
		t.Fatal(err)
	}
	b.fetchCtx = ctx
	b.importCaches(ctx)
	got, ok := b.imported[k]
	if !ok || got.layer != l || !got.created.Equal(created) {
		t.Fatalf("imported[%s] = %+v, %v; want %+v created %s\nnotes: %s", k, got, ok, l, created, &n)
	}
	if b.store.blobs.Has(l.Digest) {
		t.Errorf("the layer was downloaded by the import")
	}
	// --no-cache looks nothing up, so it reads no cache either.
	nc, err := New(Options{CacheDir: t.TempDir(), NoCache: true, CacheFrom: []CacheRef{{Ref: ref}}})
	if err != nil {
		t.Fatal(err)
	}
	nc.importCaches(ctx)
	if len(nc.imported) != 0 {
		t.Errorf("with NoCache, %d records were imported", len(nc.imported))
	}
	// Reading it fetches it, verified against the diff ID on unpacking.
	if err := b.ensureLayerDir(got.layer); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(b.store.layerDir(l.DiffID), "f")); err != nil || string(data) != "content" {
		t.Errorf("unpacked layer has f = %q, %v", data, err)
	}
}

func TestCacheImportRefusesBadCaches(t *testing.T) {
	reg := cacheRegistry(t)
	ctx := context.Background()
	store, err := image.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	layer, err := random.Layer(100, "application/vnd.oci.image.layer.v1.tar+gzip")
	if err != nil {
		t.Fatal(err)
	}
	digest, _ := layer.Digest()
	diffID, _ := layer.DiffID()
	push := func(tag string, doc any, annotations map[string]string) string {
		raw, _ := json.Marshal(doc)
		art, err := image.NewArtifact(cacheConfigType, raw, []v1.Layer{layer}, map[v1.Hash]map[string]string{digest: annotations})
		if err != nil {
			t.Fatal(err)
		}
		ref := reg + "/bad/cache:" + tag
		if err := image.Push(ctx, art, []string{ref}, image.WithStore(store)); err != nil {
			t.Fatal(err)
		}
		return ref
	}
	good := cacheEntry{Key: hashKey("a"), Layer: digest}
	missing := cacheEntry{Key: hashKey("b"), Layer: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}}
	img, _ := random.Image(10, 1)
	plain := reg + "/bad/cache:image"
	if err := image.Push(ctx, img, []string{plain}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, ref, note string
	}{
		{"unlisted blob", push("unlisted", cacheDoc{Records: []cacheEntry{good, missing}}, map[string]string{annotationDiffID: diffID.String()}), "which the manifest does not list"},
		{"no diff ID", push("nodiff", cacheDoc{Records: []cacheEntry{good}}, nil), "diff ID"},
		{"not json", push("notjson", "records", map[string]string{annotationDiffID: diffID.String()}), "reading its records"},
		{"an image", plain, "is not a application/vnd.strata.cache.config.v1+json artifact"},
		{"missing", reg + "/bad/cache:none", "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n notes
			b, err := New(Options{CacheDir: t.TempDir(), CacheFrom: []CacheRef{{Ref: tc.ref}}, Progress: n.event})
			if err != nil {
				t.Fatal(err)
			}
			b.importCaches(ctx)
			if len(b.imported) != 0 {
				t.Errorf("imported %d records from a bad cache", len(b.imported))
			}
			if !strings.Contains(n.String(), tc.note) {
				t.Errorf("notes = %q, want one containing %q", n.String(), tc.note)
			}
		})
	}
}

// deleteBlob deletes the blob h of repo from the registry reg.
func deleteBlob(t *testing.T, reg, repo string, h v1.Hash) {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, "http://"+reg+"/v2/"+repo+"/blobs/"+h.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("DELETE blob %s: %s", h, resp.Status)
	}
}

func TestCacheImportSkipsMissingBlobs(t *testing.T) {
	// A registry's retention policy may delete blobs a cache lists. The
	// records of those blobs are dropped at import, so their steps run,
	// rather than failing the build when the layer is first read.
	reg := cacheRegistry(t)
	ctx := context.Background()
	a, err := New(Options{CacheDir: t.TempDir(), Compression: layers.Gzip})
	if err != nil {
		t.Fatal(err)
	}
	var recs []stepRecord
	for _, content := range []string{"kept", "deleted"} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "f"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := a.store.packLayer(dir, layers.Gzip)
		if err != nil {
			t.Fatal(err)
		}
		k := hashKey(content)
		a.records[k] = stepRecord{key: k, layer: l}
		recs = append(recs, a.records[k])
	}
	mountDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(mountDir, "dl"), []byte("downloaded"), 0o644); err != nil {
		t.Fatal(err)
	}
	inst := filepath.Join(a.store.dir, "cachemounts", mountID("m"), "0")
	if err := os.MkdirAll(filepath.Dir(inst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(mountDir, inst); err != nil {
		t.Fatal(err)
	}
	a.useMount("m")
	ref := reg + "/team/cache:1"
	for _, dest := range []CacheRef{{Ref: ref}, {Dir: filepath.Join(t.TempDir(), "layout")}} {
		if err := a.ExportCache(ctx, CacheExport{CacheRef: dest, Max: true, Mounts: true, MountMaxSize: 1 << 20}); err != nil {
			t.Fatal(err)
		}
		var art *image.Artifact
		if dest.Dir != "" {
			art, err = image.ReadLayoutArtifact(dest.Dir, cacheConfigType, a.store.blobs)
		} else {
			art, err = image.FetchArtifact(ctx, ref, cacheConfigType, a.imageOptions()...)
		}
		if err != nil {
			t.Fatal(err)
		}
		var doc cacheDoc
		if err := json.Unmarshal(art.Config, &doc); err != nil {
			t.Fatal(err)
		}
		// The deleted layer and the cache mount's tar go.
		for _, h := range []v1.Hash{recs[1].layer.Digest, doc.Mounts[0].Blob} {
			if dest.Dir != "" {
				if err := os.Remove(filepath.Join(dest.Dir, "blobs", h.Algorithm, h.Hex)); err != nil {
					t.Fatal(err)
				}
			} else {
				deleteBlob(t, reg, "team/cache", h)
			}
		}
		t.Run(dest.String(), func(t *testing.T) {
			var n notes
			b, err := New(Options{CacheDir: t.TempDir(), Compression: layers.Gzip, CacheFrom: []CacheRef{dest}, Progress: n.event})
			if err != nil {
				t.Fatal(err)
			}
			b.importCaches(ctx)
			if _, ok := b.imported[recs[0].key]; !ok {
				t.Errorf("the record whose blob is there was not imported\nnotes: %s", &n)
			}
			if _, ok := b.imported[recs[1].key]; ok {
				t.Errorf("the record whose blob was deleted was imported")
			}
			if len(b.importedMounts) != 0 {
				t.Errorf("the cache mount whose blob was deleted was imported")
			}
			if want := "2 of its blobs are missing"; !strings.Contains(n.String(), want) {
				t.Errorf("notes = %q, want one containing %q", &n, want)
			}
			if b.store.blobs.Has(recs[0].layer.Digest) {
				t.Errorf("checking the blobs downloaded one")
			}
		})
	}
}

// tarLayer is a layer whose uncompressed content is the tar of hdrs (each
// regular file's body is its name).
func tarLayer(t *testing.T, hdrs []tar.Header) v1.Layer {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		body := ""
		if h.Typeflag == tar.TypeReg {
			body = h.Name
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := tarball.LayerFromReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestImportedMountHostile(t *testing.T) {
	// An imported cache mount's tar comes from whoever could push the
	// cache: entries that climb out, absolute names and symlinks to
	// outside must write nothing outside the instance, and a tar that
	// cannot be unpacked leaves the mount as a new one, with a warning,
	// rather than half unpacked or failing the step.
	outside := t.TempDir()
	reg := func(name string) tar.Header { return tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644} }
	for _, tc := range []struct {
		name    string
		hdrs    []tar.Header
		want    []string // files in the instance after import
		warning string
	}{
		{"symlinks stay inside", []tar.Header{
			{Typeflag: tar.TypeSymlink, Name: "up", Linkname: "../../../../../.."},
			reg("up/a"),
			{Typeflag: tar.TypeSymlink, Name: "abs", Linkname: "/"},
			reg("abs/b"),
		}, []string{"a", "abs", "b", "init", "up"}, ""},
		{"dot-dot", []tar.Header{reg("ok"), reg("../../../../" + filepath.Base(outside) + "/pwn")}, []string{"init"}, "imported contents are left out"},
		{"symlink to outside", []tar.Header{
			reg("ok"),
			{Typeflag: tar.TypeSymlink, Name: "esc", Linkname: outside},
			reg("esc/pwn"),
		}, []string{"init"}, "imported contents are left out"},
		{"hard link out", []tar.Header{reg("ok"), {Typeflag: tar.TypeLink, Name: "hl", Linkname: "../../etc/passwd"}}, []string{"init"}, "imported contents are left out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var n notes
			b, err := New(Options{CacheDir: t.TempDir(), Progress: n.event})
			if err != nil {
				t.Fatal(err)
			}
			b.importedMounts[mountID("m")] = tarLayer(t, tc.hdrs)
			inst := filepath.Join(t.TempDir(), "inst")
			if err := os.Mkdir(inst, 0o755); err != nil {
				t.Fatal(err)
			}
			init := func(dir string) error { return os.WriteFile(filepath.Join(dir, "init"), nil, 0o644) }
			if err := b.importedMountInit("m", init)(inst); err != nil {
				t.Fatalf("importing the mount: %v", err)
			}
			var got []string
			filepath.WalkDir(inst, func(p string, d fs.DirEntry, err error) error {
				if p != inst {
					got = append(got, strings.TrimPrefix(p, inst+"/"))
				}
				return err
			})
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("instance holds %v, want %v", got, tc.want)
			}
			if !strings.Contains(n.String(), tc.warning) {
				t.Errorf("notes = %q, want one containing %q", &n, tc.warning)
			}
			if entries, _ := os.ReadDir(outside); len(entries) > 0 {
				t.Errorf("the import wrote %s outside the instance", entries[0].Name())
			}
		})
	}
}
