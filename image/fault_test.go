package image

import (
	"context"
	"errors"
	"math/rand"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stratabuild/strata/internal/faultproxy"
	"github.com/stratabuild/strata/internal/testregistry"
)

// Pushes and pulls against the real registry behind a proxy that breaks
// requests: what is retried, how long strata waits, what the final error
// says, and that a failed push leaves no tag behind.

// faultImage is an image of n layers of 64 KiB of random bytes each, big
// enough for a reset to fall in the middle of one.
func faultImage(t *testing.T, s *Store, seed int64, n int) v1.Image {
	t.Helper()
	rnd := rand.New(rand.NewSource(seed))
	var layers []Layer
	for i := 0; i < n; i++ {
		body := make([]byte, 64<<10)
		rnd.Read(body)
		layers = append(layers, storeLayer(t, s, types.OCILayer, []entry{{name: "data", body: string(body)}}))
	}
	return testImage(t, layers...)
}

// blobDigests lists the layers' and the config's digests of img.
func blobDigests(t *testing.T, img v1.Image) (layers []v1.Hash, config v1.Hash) {
	t.Helper()
	m, err := img.Manifest()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers {
		layers = append(layers, l.Digest)
	}
	return layers, m.Config.Digest
}

// upstreamStatus asks the registry at host, directly, for path (HEAD) and
// returns the status.
func upstreamStatus(t *testing.T, host, path string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, "http://"+host+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", strings.Join([]string{string(types.OCIManifestSchema1), string(types.DockerManifestSchema2),
		string(types.OCIImageIndex), string(types.DockerManifestList)}, ","))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// gap is the time between the first two requests, which must exist.
func gap(t *testing.T, reqs []faultproxy.Request) time.Duration {
	t.Helper()
	if len(reqs) < 2 {
		t.Fatalf("%d requests, want at least 2: %+v", len(reqs), reqs)
	}
	return reqs[1].Time.Sub(reqs[0].Time)
}

const (
	patchRE  = `/blobs/uploads/`
	commitRE = `/blobs/uploads/.*\?.*digest=sha256:`
)

func TestPushFaults(t *testing.T) {
	upstream := testregistry.Start(t)
	s := openStore(t)
	img := faultImage(t, s, 1, 3)
	const blobs = 4 // 3 layers and the config
	want, _ := img.Digest()

	tests := []struct {
		name  string
		rules []faultproxy.Rule
		// wantErr, if set, is a regular expression the error must match
		// whole, with HOST standing for the proxy's host:port.
		wantErr string
		check   func(t *testing.T, p *faultproxy.Proxy, took time.Duration)
	}{
		{
			name:  "503 twice then success",
			rules: []faultproxy.Rule{{Method: "PATCH", Path: patchRE, Times: 2, Fault: faultproxy.Fault{Status: 503}}},
			check: func(t *testing.T, p *faultproxy.Proxy, _ time.Duration) {
				if n, f := p.Count("PATCH", patchRE), p.Faulted("PATCH", patchRE); f != 2 || n != blobs+2 {
					t.Errorf("%d PATCH, %d of them failed; want %d and 2: each failure retried once", n, f, blobs+2)
				}
			},
		},
		{
			name:  "500 on the manifest then success",
			rules: []faultproxy.Rule{{Method: "PUT", Path: `/manifests/`, Times: 1, Fault: faultproxy.Fault{Status: 500}}},
			check: func(t *testing.T, p *faultproxy.Proxy, _ time.Duration) {
				if n := p.Count("PUT", `/manifests/`); n != 2 {
					t.Errorf("%d manifest PUTs, want 2", n)
				}
				if n := p.Count("PATCH", patchRE); n != blobs {
					t.Errorf("%d PATCH, want %d: a manifest retry uploads no blob", n, blobs)
				}
			},
		},
		{
			name: "429 with Retry-After",
			rules: []faultproxy.Rule{{Method: "PUT", Path: commitRE, Times: 1,
				Fault: faultproxy.Fault{Status: 429, RetryAfter: "1"}}},
			check: func(t *testing.T, p *faultproxy.Proxy, _ time.Duration) {
				first := p.Requests("PUT", commitRE)[0]
				d := first.Target[strings.Index(first.Target, "digest=")+len("digest="):]
				if g := gap(t, p.Requests("PUT", regexp.QuoteMeta(d))); g < time.Second {
					t.Errorf("retried %s after %s, want at least the 1 s of Retry-After", d, g)
				}
			},
		},
		{
			name: "reset in the middle of an upload",
			rules: []faultproxy.Rule{{Method: "PATCH", Path: patchRE, Times: 1,
				Fault: faultproxy.Fault{ResetRequest: true, ResetAfter: 16 << 10}}},
			check: func(t *testing.T, p *faultproxy.Proxy, _ time.Duration) {
				if n, f := p.Count("PATCH", patchRE), p.Faulted("PATCH", patchRE); f != 1 || n != blobs+1 {
					t.Errorf("%d PATCH, %d of them reset; want %d and 1", n, f, blobs+1)
				}
			},
		},
		{
			name: "reset before the answer",
			rules: []faultproxy.Rule{{Method: "PUT", Path: commitRE, Times: 1,
				Fault: faultproxy.Fault{ResetRequest: true}}},
			check: func(t *testing.T, p *faultproxy.Proxy, _ time.Duration) {
				if n := p.Count("PUT", commitRE); n != blobs+1 {
					t.Errorf("%d commits, want %d", n, blobs+1)
				}
			},
		},
		{
			name: "slow answers",
			rules: []faultproxy.Rule{
				{Method: "PATCH", Path: patchRE, Times: 1, Fault: faultproxy.Fault{Delay: 1500 * time.Millisecond}},
			},
			check: func(t *testing.T, p *faultproxy.Proxy, took time.Duration) {
				if took < 1500*time.Millisecond {
					t.Errorf("push took %s, less than the delay", took)
				}
				if n := p.Count("PATCH", patchRE); n != blobs {
					t.Errorf("%d PATCH, want %d: a slow answer is waited for, not retried", n, blobs)
				}
			},
		},
		{
			name:    "token refused",
			rules:   []faultproxy.Rule{{Path: `^/v2/`, Fault: faultproxy.Fault{Auth: 403}}},
			wantErr: `pushing HOST/fault/token-refused:1: registry HOST: access denied \(log in with docker login or a credential helper\): .*`,
			check: func(t *testing.T, p *faultproxy.Proxy, _ time.Duration) {
				if n := p.Count("GET", `^/faultproxy/token`); n != 1 {
					t.Errorf("%d token requests, want 1: a refusal is not retried", n)
				}
				if n := p.Count("", `/blobs/`); n != 0 {
					t.Errorf("%d blob requests after the refusal, want 0", n)
				}
			},
		},
		{
			name:    "503 on every upload",
			rules:   []faultproxy.Rule{{Method: "PATCH", Path: patchRE, Fault: faultproxy.Fault{Status: 503}}},
			wantErr: `pushing (layer|config) sha256:[0-9a-f]{64} to HOST/fault/503-on-every-upload:1: 503 Service Unavailable \(UNAVAILABLE: faultproxy injected 503\) after 5 attempts`,
			check: func(t *testing.T, p *faultproxy.Proxy, took time.Duration) {
				if took > 30*time.Second {
					t.Errorf("gave up after %s, want well under a minute (the backoff totals about 1.5 s)", took)
				}
				if n := p.Faulted("PATCH", patchRE); n < 5 {
					t.Errorf("%d PATCH failed, want at least the 5 attempts of one blob", n)
				}
			},
		},
		{
			name:    "503 on every manifest PUT",
			rules:   []faultproxy.Rule{{Method: "PUT", Path: `/manifests/`, Fault: faultproxy.Fault{Status: 503}}},
			wantErr: `pushing manifest ` + want.String() + ` to HOST/fault/503-on-every-manifest-put:1: 503 Service Unavailable \(UNAVAILABLE: faultproxy injected 503\) after 5 attempts`,
		},
		{
			name:    "reset on every commit",
			rules:   []faultproxy.Rule{{Method: "PUT", Path: commitRE, Fault: faultproxy.Fault{ResetRequest: true}}},
			wantErr: `pushing (layer|config) sha256:[0-9a-f]{64} to HOST/fault/reset-on-every-commit:1: connection (reset|closed) by the registry.* after 5 attempts`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := faultproxy.Start(t, upstream)
			for _, r := range tt.rules {
				p.Add(r)
			}
			repo := "fault/" + strings.ToLower(strings.NewReplacer(" ", "-").Replace(tt.name))
			start := time.Now()
			err := Push(context.Background(), img, []string{p.Host() + "/" + repo + ":1"})
			took := time.Since(start)
			manifest := upstreamStatus(t, upstream, "/v2/"+repo+"/manifests/1")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Push() = %v", err)
				}
				if manifest != http.StatusOK {
					t.Errorf("the registry answers %d for the tag, want 200", manifest)
				}
				b, err := Pull(context.Background(), upstream+"/"+repo+":1", WithStore(openStore(t)))
				if err != nil || b.Digest != want {
					t.Errorf("Pull() = %v, %v; want digest %s", b, err, want)
				}
			} else {
				re := regexp.MustCompile("^" + strings.ReplaceAll(tt.wantErr, "HOST", regexp.QuoteMeta(p.Host())) + "$")
				t.Logf("Push() = %v", err)
				if err == nil || !re.MatchString(err.Error()) {
					t.Errorf("Push() = %v, want an error matching %s", err, re)
				}
				if manifest != http.StatusNotFound {
					t.Errorf("after a failed push the registry answers %d for the tag, want 404", manifest)
				}
				if n := p.Count("PUT", `/manifests/`); n != p.Faulted("PUT", `/manifests/`) {
					t.Errorf("%d manifest PUTs reached the registry after a failed push, want 0", n)
				}
			}
			if tt.check != nil {
				tt.check(t, p, took)
			}
		})
	}
}

// TestInterruptedPush has the connection reset whenever one blob is
// committed, so the push fails after the others are uploaded; then the
// push is run again without faults and uploads only what is missing.
func TestInterruptedPush(t *testing.T) {
	upstream := testregistry.Start(t)
	p := faultproxy.Start(t, upstream)
	img := faultImage(t, openStore(t), 2, 4)
	layers, config := blobDigests(t, img)
	all := append(layers, config)
	tag := p.Host() + "/fault/resume:1"
	p.Add(faultproxy.Rule{Method: "PUT", Path: commitRE, Match: faultproxy.NthDigest(1),
		Fault: faultproxy.Fault{ResetRequest: true}})

	err := Push(context.Background(), img, []string{tag})
	failed := p.Requests("PUT", commitRE)
	var victim string
	for _, r := range failed {
		if r.Fault != "" {
			victim = r.Target[strings.Index(r.Target, "digest=")+len("digest="):]
		}
	}
	if victim == "" {
		t.Fatalf("no commit was reset; Push() = %v", err)
	}
	re := regexp.MustCompile(`^pushing (layer|config) ` + victim + ` to ` + regexp.QuoteMeta(tag) +
		`: connection (reset|closed) by the registry.* after 5 attempts$`)
	if err == nil || !re.MatchString(err.Error()) {
		t.Errorf("Push() = %v, want an error matching %s", err, re)
	}
	if n := p.Faulted("PUT", regexp.QuoteMeta(victim)); n != 5 {
		t.Errorf("%s was committed %d times, want 5 attempts", victim, n)
	}
	// No partial tag: the manifest is written last, and was not.
	if n := p.Count("PUT", `/manifests/`); n != 0 {
		t.Errorf("%d manifest PUTs, want 0", n)
	}
	if s := upstreamStatus(t, upstream, "/v2/fault/resume/manifests/1"); s != http.StatusNotFound {
		t.Errorf("after the failed push the registry answers %d for the tag, want 404", s)
	}
	present := map[v1.Hash]bool{}
	for _, d := range all {
		present[d] = upstreamStatus(t, upstream, "/v2/fault/resume/blobs/"+d.String()) == http.StatusOK
	}
	if present[v1.Hash{Algorithm: "sha256", Hex: strings.TrimPrefix(victim, "sha256:")}] {
		t.Errorf("the registry has %s, whose commit was reset", victim)
	}
	missing := 0
	for _, ok := range present {
		if !ok {
			missing++
		}
	}
	if missing == len(all) {
		t.Fatalf("no blob was uploaded before the failure")
	}

	p.Clear()
	p.ResetLog()
	if err := Push(context.Background(), img, []string{tag}); err != nil {
		t.Fatalf("second Push() = %v", err)
	}
	for _, d := range all {
		n := p.Count("PUT", `digest=`+regexp.QuoteMeta(d.String()))
		switch {
		case present[d] && n != 0:
			t.Errorf("%s, uploaded by the first push, was uploaded again (%d commits)", d, n)
		case !present[d] && n != 1:
			t.Errorf("%s, missing after the first push, was committed %d times, want 1", d, n)
		}
	}
	if n := p.Count("PATCH", patchRE); n != missing {
		t.Errorf("second push sent %d PATCH, want %d (the missing blobs)", n, missing)
	}
	if s := upstreamStatus(t, upstream, "/v2/fault/resume/manifests/1"); s != http.StatusOK {
		t.Errorf("after the second push the registry answers %d for the tag, want 200", s)
	}

	// Pushing once more costs one manifest HEAD and uploads nothing.
	p.ResetLog()
	if err := Push(context.Background(), img, []string{tag}); err != nil {
		t.Fatalf("third Push() = %v", err)
	}
	if n, all := p.Count("HEAD", `/manifests/`), p.Count("", `/v2/.+`); n != 1 || all != 1 {
		t.Errorf("pushing an image the registry has made %d requests (%d manifest HEADs), want 1", all, n)
	}
}

func TestPullFaults(t *testing.T) {
	upstream := testregistry.Start(t)
	img := faultImage(t, openStore(t), 3, 2)
	want, _ := img.Digest()
	layers, _ := blobDigests(t, img)
	layer := `/blobs/` + regexp.QuoteMeta(layers[0].String())
	if err := Push(context.Background(), img, []string{upstream + "/fault/pull:1"}); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		rules   []faultproxy.Rule
		wantErr string // as in TestPushFaults
		wantIs  error
		check   func(t *testing.T, p *faultproxy.Proxy)
	}{
		{
			name:  "503 on the manifest twice",
			rules: []faultproxy.Rule{{Method: "GET", Path: `/manifests/`, Times: 2, Fault: faultproxy.Fault{Status: 503}}},
			check: func(t *testing.T, p *faultproxy.Proxy) {
				if n := p.Count("GET", `/manifests/`); n != 3 {
					t.Errorf("%d manifest GETs, want 3", n)
				}
			},
		},
		{
			name:  "429 with Retry-After on a layer",
			rules: []faultproxy.Rule{{Method: "GET", Path: layer, Times: 1, Fault: faultproxy.Fault{Status: 429, RetryAfter: "1"}}},
			check: func(t *testing.T, p *faultproxy.Proxy) {
				if g := gap(t, p.Requests("GET", layer)); g < time.Second {
					t.Errorf("retried after %s, want at least the 1 s of Retry-After", g)
				}
			},
		},
		{
			name: "reset in the middle of a layer",
			rules: []faultproxy.Rule{{Method: "GET", Path: layer, Times: 1,
				Fault: faultproxy.Fault{ResetResponse: true, ResetAfter: 20000}}},
			check: func(t *testing.T, p *faultproxy.Proxy) {
				reqs := p.Requests("GET", layer)
				if len(reqs) != 2 || !strings.HasPrefix(reqs[1].Range, "bytes=") {
					t.Fatalf("layer requests %+v, want a second one for the rest (Range)", reqs)
				}
				t.Logf("resumed with Range: %s", reqs[1].Range)
			},
		},
		{
			name: "slow manifest and trickled layer",
			rules: []faultproxy.Rule{
				{Method: "GET", Path: `/manifests/`, Fault: faultproxy.Fault{Delay: time.Second}},
				{Method: "GET", Path: layer, Fault: faultproxy.Fault{Trickle: 50 * time.Millisecond, TrickleBytes: 8 << 10}},
			},
			check: func(t *testing.T, p *faultproxy.Proxy) {
				if n := p.Count("GET", layer); n != 1 {
					t.Errorf("%d layer GETs, want 1", n)
				}
			},
		},
		{
			name:    "503 on a layer every time",
			rules:   []faultproxy.Rule{{Method: "GET", Path: layer, Fault: faultproxy.Fault{Status: 503}}},
			wantErr: `pulling HOST/fault/pull:1: fetching layer ` + layers[0].String() + `: registry HOST: 503 Service Unavailable \(UNAVAILABLE: faultproxy injected 503\) after 5 attempts`,
			check: func(t *testing.T, p *faultproxy.Proxy) {
				if n := p.Count("GET", layer); n != 5 {
					t.Errorf("%d layer GETs, want 5", n)
				}
			},
		},
		{
			name: "reset in a layer every time",
			rules: []faultproxy.Rule{{Method: "GET", Path: layer,
				Fault: faultproxy.Fault{ResetResponse: true, ResetAfter: 1000}}},
			wantErr: `pulling HOST/fault/pull:1: fetching layer ` + layers[0].String() + `: registry HOST: connection (reset|closed) by the registry.* after 5 attempts`,
		},
		{
			name:    "token refused",
			rules:   []faultproxy.Rule{{Path: `^/v2/`, Fault: faultproxy.Fault{Auth: 401}}},
			wantErr: `pulling HOST/fault/pull:1: registry HOST: access denied .*`,
			wantIs:  ErrDenied,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := faultproxy.Start(t, upstream)
			for _, r := range tt.rules {
				p.Add(r)
			}
			start := time.Now()
			b, err := Pull(context.Background(), p.Host()+"/fault/pull:1", WithStore(openStore(t)))
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("Pull() took %s", took)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Pull() = %v", err)
				}
				if b.Digest != want {
					t.Errorf("Pull().Digest = %s, want %s", b.Digest, want)
				}
			} else {
				re := regexp.MustCompile("^" + strings.ReplaceAll(tt.wantErr, "HOST", regexp.QuoteMeta(p.Host())) + "$")
				t.Logf("Pull() = %v", err)
				if err == nil || !re.MatchString(err.Error()) {
					t.Errorf("Pull() = %v, want an error matching %s", err, re)
				}
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("Pull() = %v, want it to wrap %v", err, tt.wantIs)
				}
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"1", time.Second},
		{" 30 ", 30 * time.Second},
		{"-5", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		if got := retryAfter(tt.in, now); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
