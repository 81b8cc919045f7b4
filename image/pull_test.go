package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// seed pushes img to ref with go-containerregistry directly.
func seed(t *testing.T, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("seeding %s: %v", ref, err)
	}
}

// events collects progress events.
type events struct {
	mu   sync.Mutex
	list []Event
}

func (e *events) add(ev Event) {
	e.mu.Lock()
	e.list = append(e.list, ev)
	e.mu.Unlock()
}

func (e *events) count(k EventKind) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.list {
		if ev.Kind == k {
			n++
		}
	}
	return n
}

func TestPull(t *testing.T) {
	host, rec, _ := memRegistry(t)
	img, err := random.Image(4096, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/test/pull:1"
	seed(t, ref, img)
	s := openStore(t)
	ctx := context.Background()

	rec.reset()
	ev := &events{}
	b, err := Pull(ctx, ref, WithStore(s), WithProgress(ev.add))
	if err != nil {
		t.Fatalf("Pull(%s) = %v", ref, err)
	}
	want, _ := img.Digest()
	if b.Digest != want {
		t.Errorf("Pull(%s).Digest = %s, want %s", ref, b.Digest, want)
	}
	if b.Ref != ref {
		t.Errorf("Pull(%s).Ref = %s", ref, b.Ref)
	}
	wantCfg, _ := img.ConfigName()
	if !s.Has(want) || !s.Has(wantCfg) {
		t.Errorf("manifest or config missing from the store")
	}
	if b.Config == nil || len(b.Config.RootFS.DiffIDs) != 3 {
		t.Errorf("Pull().Config = %+v", b.Config)
	}
	orig, _ := img.Layers()
	if len(b.Layers) != len(orig) {
		t.Fatalf("Pull() gave %d layers, want %d", len(b.Layers), len(orig))
	}
	for i, l := range b.Layers {
		wd, _ := orig[i].Digest()
		wdiff, _ := orig[i].DiffID()
		d, _ := l.Digest()
		diff, _ := l.DiffID()
		if d != wd || diff != wdiff {
			t.Errorf("layer %d = %s/%s, want %s/%s", i, d, diff, wd, wdiff)
		}
		// The stored layer decompresses to its diff_id.
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := v1.SHA256(rc)
		rc.Close()
		if err != nil || got != wdiff {
			t.Errorf("layer %d uncompresses to %s (%v), want %s", i, got, err, wdiff)
		}
	}
	if n := rec.count("/blobs/", http.MethodGet); n != 4 {
		t.Errorf("first pull made %d blob GETs, want 4 (config and 3 layers)", n)
	}
	if ev.count(EventResolved) != 1 || ev.count(EventLayerDone) != 3 {
		t.Errorf("events: %d resolved, %d layers done; want 1 and 3", ev.count(EventResolved), ev.count(EventLayerDone))
	}

	// Resolving asks for the manifest only.
	rec.reset()
	if got, err := Resolve(ctx, ref); err != nil || got != want {
		t.Errorf("Resolve(%s) = %s, %v; want %s", ref, got, err, want)
	}
	if n := rec.count("/blobs/", http.MethodGet, http.MethodHead); n != 0 {
		t.Errorf("Resolve made %d blob requests, want 0", n)
	}
	if _, err := Resolve(ctx, host+"/test/pull:missing"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Resolve(missing) = %v, want %v", err, ErrNotFound)
	}

	// Pulling again asks for the manifest but downloads no blob.
	rec.reset()
	ev = &events{}
	b2, err := Pull(ctx, ref, WithStore(s), WithProgress(ev.add))
	if err != nil {
		t.Fatal(err)
	}
	if b2.Digest != want {
		t.Errorf("second Pull().Digest = %s, want %s", b2.Digest, want)
	}
	if n := rec.count("/blobs/", http.MethodGet, http.MethodHead); n != 0 {
		t.Errorf("second pull made %d blob requests, want 0", n)
	}
	if n := rec.count("/manifests/", http.MethodGet, http.MethodHead); n == 0 {
		t.Errorf("second pull did not ask the registry for the manifest")
	}
	if ev.count(EventLayerCached) != 3 {
		t.Errorf("second pull reported %d cached layers, want 3", ev.count(EventLayerCached))
	}
}

func TestPullByDigestUsesStore(t *testing.T) {
	host, rec, srv := memRegistry(t)
	img, _ := random.Image(1024, 2)
	seed(t, host+"/test/dig:1", img)
	d, _ := img.Digest()
	ref := host + "/test/dig@" + d.String()
	s := openStore(t)
	if _, err := Pull(context.Background(), ref, WithStore(s)); err != nil {
		t.Fatal(err)
	}
	rec.reset()
	srv.Close() // the registry is gone; the digest is enough
	b, err := Pull(context.Background(), ref, WithStore(s))
	if err != nil {
		t.Fatalf("Pull(%s) offline = %v", ref, err)
	}
	if b.Digest != d || len(b.Layers) != 2 {
		t.Errorf("Pull() = %s with %d layers, want %s with 2", b.Digest, len(b.Layers), d)
	}
}

func TestPullRefetchesCorruptLayer(t *testing.T) {
	host, rec, _ := memRegistry(t)
	img, _ := random.Image(2048, 1)
	ref := host + "/test/corrupt:1"
	seed(t, ref, img)
	s := openStore(t)
	b, err := Pull(context.Background(), ref, WithStore(s))
	if err != nil {
		t.Fatal(err)
	}
	l := b.Layers[0]
	d, _ := l.Digest()
	if err := corruptBlob(s, d); err != nil {
		t.Fatal(err)
	}
	rc, err := l.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(rc)
	rc.Close()
	if !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("reading corrupt layer = %v, want %v", err, ErrDigestMismatch)
	}
	rec.reset()
	if _, err := Pull(context.Background(), ref, WithStore(s)); err != nil {
		t.Fatal(err)
	}
	if n := rec.count("/blobs/"+d.String(), http.MethodGet); n != 1 {
		t.Errorf("after corruption, pull fetched the layer %d times, want 1", n)
	}
}

func corruptBlob(s *Store, h v1.Hash) error {
	b, err := s.ReadAll(h)
	if err != nil {
		return err
	}
	b[len(b)/2] ^= 0xff
	if err := os.Chmod(s.Path(h), 0o644); err != nil {
		return err
	}
	return os.WriteFile(s.Path(h), b, 0o644)
}

func TestPullErrors(t *testing.T) {
	host, _, _ := memRegistry(t)
	img, _ := random.Image(512, 1)
	seed(t, host+"/test/exists:1", img)
	seed(t, host+"/test/artifact:1", mutate.ConfigMediaType(img, "application/vnd.example.config.v1+json"))
	// A port nothing listens on: a server that was started and closed.
	_, _, dead := memRegistry(t)
	dead.Close()
	deadHost := strings.TrimPrefix(dead.URL, "http://")

	tests := []struct {
		name     string
		ref      string
		opts     []Option
		want     error  // errors.Is target, if any
		contains string // substring of the message
	}{
		{name: "missing tag", ref: host + "/test/exists:2", want: ErrNotFound,
			contains: "pulling " + host + "/test/exists:2: image not found"},
		{name: "missing repository", ref: host + "/test/nothing:1", want: ErrNotFound,
			contains: "pulling " + host + "/test/nothing:1: image not found"},
		{name: "missing digest", ref: host + "/test/exists@sha256:" + strings.Repeat("a", 64), want: ErrNotFound},
		{name: "unreachable registry", ref: deadHost + "/x:1", want: ErrUnreachable,
			contains: "registry " + deadHost + " unreachable: dial tcp " + deadHost + ": connect: connection refused"},
		{name: "not an image", ref: host + "/test/artifact:1", contains: "is not a container image"},
		{name: "bad reference", ref: "UPPER/case:1", contains: "pulling UPPER/case:1: "},
		{name: "no store", ref: host + "/test/exists:1", contains: "no store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if tt.name != "no store" {
				opts = append(opts, WithStore(openStore(t)))
			}
			_, err := Pull(context.Background(), tt.ref, opts...)
			if err == nil {
				t.Fatalf("Pull(%s) = nil error", tt.ref)
			}
			t.Logf("Pull(%s) = %v", tt.ref, err)
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Pull(%s) = %v, want it to wrap %v", tt.ref, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("Pull(%s) = %q, want it to contain %q", tt.ref, err, tt.contains)
			}
		})
	}
}

func TestPullIndex(t *testing.T) {
	host, _, _ := memRegistry(t)
	platforms := []v1.Platform{
		{OS: "linux", Architecture: "amd64"},
		{OS: "linux", Architecture: "arm64", Variant: "v8"},
		{OS: "linux", Architecture: "arm", Variant: "v7"},
	}
	idx := v1.ImageIndex(empty.Index)
	digests := map[string]v1.Hash{}
	for _, p := range platforms {
		img, err := random.Image(1024, 2)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := img.Digest()
		digests[p.String()] = d
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
	}
	ref := host + "/test/multi:1"
	r, _ := name.ParseReference(ref)
	if err := remote.WriteIndex(r, idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()

	tests := []struct {
		platform v1.Platform
		want     string // key into digests, "" for no match
	}{
		{v1.Platform{OS: "linux", Architecture: "amd64"}, "linux/amd64"},
		{v1.Platform{OS: "linux", Architecture: "arm64"}, "linux/arm64/v8"},
		{v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, "linux/arm/v7"},
		{v1.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}, ""},
		{v1.Platform{OS: "linux", Architecture: "s390x"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.platform.String(), func(t *testing.T) {
			s := openStore(t)
			resolved, rerr := Resolve(context.Background(), ref, WithPlatform(tt.platform))
			b, err := Pull(context.Background(), ref, WithStore(s), WithPlatform(tt.platform))
			if tt.want == "" {
				if !errors.Is(rerr, ErrNoMatchingPlatform) {
					t.Errorf("Resolve(%s) = %v, want %v", tt.platform, rerr, ErrNoMatchingPlatform)
				}
				if !errors.Is(err, ErrNoMatchingPlatform) {
					t.Fatalf("Pull(%s) = %v, want %v", tt.platform, err, ErrNoMatchingPlatform)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Digest != digests[tt.want] || b.Index != idxDigest {
				t.Errorf("Pull(%s) = %s from index %s, want %s from %s", tt.platform, b.Digest, b.Index, digests[tt.want], idxDigest)
			}
			if rerr != nil || resolved != b.Digest {
				t.Errorf("Resolve(%s) = %s, %v; want %s", tt.platform, resolved, rerr, b.Digest)
			}
			if !s.Has(idxDigest) {
				t.Errorf("index not stored")
			}
			// By digest of the index, offline resolution picks the same.
			b2, err := Pull(context.Background(), host+"/test/multi@"+idxDigest.String(), WithStore(s), WithPlatform(tt.platform))
			if err != nil || b2.Digest != b.Digest {
				t.Errorf("Pull(index digest) = %v, %v; want %s", b2, err, b.Digest)
			}
		})
	}
}

// fakeTransport answers every request with 200 and records it.
type fakeTransport struct{ got []string }

func (f *fakeTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f.got = append(f.got, req.URL.String())
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
}

func TestPlainHTTPGuard(t *testing.T) {
	tests := []struct {
		url      string
		insecure []string
		allowed  bool
	}{
		{"http://127.0.0.1:5000/v2/", nil, true},
		{"http://127.0.0.2:5000/v2/", nil, true},
		{"http://localhost:5000/v2/", nil, true},
		{"http://[::1]:5000/v2/", nil, true},
		{"http://10.0.0.1:5000/v2/", nil, false},
		{"http://registry.example:5000/v2/", nil, false},
		{"http://registry.example:5000/v2/", []string{"registry.example:5000"}, true},
		{"http://registry.example:5000/v2/", []string{"registry.example"}, true},
		{"http://registry.example:5000/v2/", []string{"other.example"}, false},
		{"https://registry.example/v2/", nil, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.url, tt.insecure), func(t *testing.T) {
			fake := &fakeTransport{}
			o := makeOptions([]Option{WithTransport(fake), WithInsecure(tt.insecure...)})
			req, _ := http.NewRequest(http.MethodGet, tt.url, nil)
			_, err := o.guardedTransport().RoundTrip(req)
			var plain *PlainHTTPError
			if tt.allowed && (err != nil || len(fake.got) != 1) {
				t.Errorf("RoundTrip(%s) = %v, want it allowed", tt.url, err)
			}
			if !tt.allowed && (!errors.As(err, &plain) || len(fake.got) != 0) {
				t.Errorf("RoundTrip(%s) = %v, want a PlainHTTPError", tt.url, err)
			}
		})
	}
}

func TestPullWithInsecureNonLoopbackName(t *testing.T) {
	// The registry listens on 127.0.0.1 but is reached as "localtest:PORT"
	// through a transport that maps the name; without --insecure-registry
	// the plain-HTTP request is refused.
	host, _, _ := memRegistry(t)
	img, _ := random.Image(256, 1)
	seed(t, host+"/test/ins:1", img)
	_, port, _ := strings.Cut(host, ":")
	alias := "registry.test:" + port
	tr := &rewriteTransport{from: alias, to: host}

	_, err := Pull(context.Background(), alias+"/test/ins:1", WithStore(openStore(t)), WithTransport(tr))
	t.Logf("Pull without WithInsecure = %v", err)
	var plain *PlainHTTPError
	if err == nil || !errors.As(err, &plain) && !strings.Contains(err.Error(), "insecure-registry") {
		t.Fatalf("Pull without WithInsecure = %v, want a refusal that mentions --insecure-registry", err)
	}
	b, err := Pull(context.Background(), alias+"/test/ins:1", WithStore(openStore(t)), WithTransport(tr), WithInsecure(alias))
	if err != nil {
		t.Fatalf("Pull with WithInsecure = %v", err)
	}
	if want, _ := img.Digest(); b.Digest != want {
		t.Errorf("Pull().Digest = %s, want %s", b.Digest, want)
	}
}

// rewriteTransport sends requests for host from to host to, over plain HTTP
// (a TLS attempt fails as it would against a plain-HTTP registry).
type rewriteTransport struct{ from, to string }

func (r *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != r.from {
		return http.DefaultTransport.RoundTrip(req)
	}
	if req.URL.Scheme == "https" {
		return nil, errors.New("http: server gave HTTP response to HTTPS client")
	}
	out := req.Clone(req.Context())
	out.URL.Host = r.to
	out.Host = r.to
	return http.DefaultTransport.RoundTrip(out)
}

func TestPullLazyLayers(t *testing.T) {
	host, rec, _ := memRegistry(t)
	img, _ := random.Image(2048, 2)
	ref := host + "/test/lazy:1"
	seed(t, ref, img)
	s := openStore(t)
	rec.reset()
	b, err := Pull(context.Background(), ref, WithStore(s), WithLazyLayers(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	if n := rec.count("/blobs/", http.MethodGet); n != 1 {
		t.Errorf("lazy pull made %d blob GETs, want 1 (the config)", n)
	}
	for i, l := range b.Layers {
		d, _ := l.Digest()
		if s.Has(d) {
			t.Errorf("layer %d is in the store before it was read", i)
		}
	}

	// Reading a layer fetches it once, verified; later reads use the store.
	l := b.Layers[1]
	d, _ := l.Digest()
	diffID, _ := l.DiffID()
	for range 2 {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := v1.SHA256(rc)
		rc.Close()
		if err != nil || got != diffID {
			t.Fatalf("layer content = %s, %v; want diff ID %s", got, err, diffID)
		}
	}
	if n := rec.count("/blobs/"+d.String(), http.MethodGet); n != 1 {
		t.Errorf("layer fetched %d times, want 1", n)
	}
	if !s.Has(d) {
		t.Errorf("layer %s is not in the store after it was read", d)
	}

	// Pushed to another repository of the registry, the layers are
	// mounted, never uploaded, and the unread one is never downloaded.
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg.History = []v1.History{{CreatedBy: "a"}, {CreatedBy: "b"}}
	out, err := New(cfg, b.Layers)
	if err != nil {
		t.Fatal(err)
	}
	rec.reset()
	if err := Push(context.Background(), out, []string{host + "/other/app:1"}); err != nil {
		t.Fatal(err)
	}
	if n := rec.count("/blobs/uploads/", http.MethodPatch); n != 1 {
		t.Errorf("push made %d blob uploads, want 1 (the config): %v", n, rec.reqs)
	}
	first, _ := b.Layers[0].Digest()
	if s.Has(first) || rec.count("/blobs/"+first.String(), http.MethodGet) != 0 {
		t.Errorf("the layer that was never read was downloaded")
	}
}

func TestLazyLayerGone(t *testing.T) {
	// A base image (or cache) whose blob is deleted, or whose registry
	// goes away, after its manifest was read: reading the layer later is
	// an error that names the layer and says what happened.
	host, _, srv := memRegistry(t)
	img, _ := random.Image(2048, 2)
	ref := host + "/test/gone:1"
	seed(t, ref, img)
	b, err := Pull(context.Background(), ref, WithStore(openStore(t)), WithLazyLayers(context.Background()))
	if err != nil {
		t.Fatal(err)
	}
	d0, _ := b.Layers[0].Digest()
	req, _ := http.NewRequest(http.MethodDelete, "http://"+host+"/v2/test/gone/blobs/"+d0.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, err = b.Layers[0].Uncompressed()
	if want := "fetching layer " + d0.String() + ": " + host + "/test/gone no longer has it"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("reading a deleted layer: %v, want an error containing %q", err, want)
	}

	srv.Close()
	d1, _ := b.Layers[1].Digest()
	_, err = b.Layers[1].Uncompressed()
	if want := "fetching layer " + d1.String() + ": registry " + host + " unreachable"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("reading a layer of a registry that is down: %v, want an error containing %q", err, want)
	}
}
