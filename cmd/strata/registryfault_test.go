package main

import (
	"encoding/json"
	"math/rand"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stratabuild/strata/internal/faultproxy"
	"github.com/stratabuild/strata/internal/testregistry"
)

// Builds that push to, and pull their base from, the real registry behind
// a proxy that breaks requests (internal/faultproxy): strata retries what
// is worth retrying, fails with one clear line and exit code 1 when the
// registry keeps failing, never leaves a partial tag, and a push re-run
// after an interruption uploads only what is missing.

const faultDockerfile = `FROM BASE
COPY a.bin /a.bin
COPY b.bin /b.bin
RUN echo built > /built
`

// faultContext is a build context whose layers are big enough (64 KiB of
// random bytes each) for a reset to fall in the middle of an upload.
func faultContext(t *testing.T, base string) string {
	t.Helper()
	rnd := rand.New(rand.NewSource(7))
	files := map[string]string{}
	for _, name := range []string{"a.bin", "b.bin"} {
		b := make([]byte, 64<<10)
		rnd.Read(b)
		files[name] = string(b)
	}
	return writeContext(t, strings.ReplaceAll(faultDockerfile, "BASE", base), files)
}

// faultBuild runs strata build in ctxDir with cache, reproducibly, with
// the extra args.
func faultBuild(t *testing.T, cache, ctxDir string, args ...string) (result, time.Duration) {
	t.Helper()
	all := append([]string{"build", "--progress=plain", "--cache-dir", cache}, args...)
	start := time.Now()
	r := strataIn(t, "", "", []string{"SOURCE_DATE_EPOCH=1700000000"}, append(all, ctxDir)...)
	return r, time.Since(start)
}

// manifestStatus asks the registry at host directly for the manifest
// repo:ref (HEAD) and returns the status.
func manifestStatus(t *testing.T, host, repo, ref string) int {
	t.Helper()
	return headStatus(t, "http://"+host+"/v2/"+repo+"/manifests/"+ref)
}

func headStatus(t *testing.T, url string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json,application/vnd.oci.image.index.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// baseLayer returns the digest of the only layer of the busybox base in
// the registry at host.
func baseLayer(t *testing.T, host string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/v2/strata/busybox/manifests/latest", nil)
	req.Header.Set("Accept", "application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct{ Layers []struct{ Digest string } }
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || len(m.Layers) != 1 {
		t.Fatalf("busybox manifest: %v, %d layers", err, len(m.Layers))
	}
	return m.Layers[0].Digest
}

// noStackTrace fails the test if stderr shows a panic or goroutine dump.
func noStackTrace(t *testing.T, stderr string) {
	t.Helper()
	if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic:") {
		t.Errorf("stderr has a stack trace:\n%s", stderr)
	}
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

const (
	faultPatch  = `/blobs/uploads/`
	faultCommit = `/blobs/uploads/.*\?.*digest=sha256:`
)

func TestRegistryFault(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	upstream := testregistry.Start(t)
	base := busyboxBase(t, upstream, t.TempDir())
	ctxDir := faultContext(t, base)
	cache := t.TempDir() // shared by the push cases: they differ in the push only

	// uploaded checks the PATCH requests (blob uploads): faulted of them
	// were faulted, and there is one per commit besides the retried ones.
	uploaded := func(t *testing.T, p *faultproxy.Proxy, faulted, retried int) {
		t.Helper()
		n, f, commits := p.Count("PATCH", faultPatch), p.Faulted("PATCH", faultPatch), p.Count("PUT", faultCommit)
		if f != faulted || n != commits+retried || commits < 3 {
			t.Errorf("%d PATCH, %d of them faulted, %d commits; want %d faulted and one PATCH per commit (at least 3) and %d retries",
				n, f, commits, faulted, retried)
		}
	}

	pushes := []struct {
		name  string
		rules []faultproxy.Rule
		// wantErr, if set, is a regular expression that the last line of
		// stderr must match whole; HOST stands for the proxy's host:port
		// and REPO for the pushed repository.
		wantErr string
		check   func(t *testing.T, p *faultproxy.Proxy, took time.Duration)
	}{
		{
			name:  "503 twice",
			rules: []faultproxy.Rule{{Method: "PATCH", Path: faultPatch, Times: 2, Fault: faultproxy.Fault{Status: 503}}},
			check: func(t *testing.T, p *faultproxy.Proxy, _ time.Duration) { uploaded(t, p, 2, 2) },
		},
		{
			name: "429 with Retry-After",
			rules: []faultproxy.Rule{{Method: "PUT", Path: faultCommit, Times: 1,
				Fault: faultproxy.Fault{Status: 429, RetryAfter: "1"}}},
			check: func(t *testing.T, p *faultproxy.Proxy, _ time.Duration) {
				first := p.Requests("PUT", faultCommit)[0]
				d := first.Target[strings.Index(first.Target, "digest=")+len("digest="):]
				reqs := p.Requests("PUT", regexp.QuoteMeta(d))
				if len(reqs) != 2 {
					t.Fatalf("%d commits of %s, want 2", len(reqs), d)
				}
				if g := reqs[1].Time.Sub(reqs[0].Time); g < time.Second {
					t.Errorf("retried %s after %s, want at least the 1 s of Retry-After", d, g)
				}
			},
		},
		{
			name: "reset mid-upload",
			rules: []faultproxy.Rule{{Method: "PATCH", Path: faultPatch, Times: 1,
				Fault: faultproxy.Fault{ResetRequest: true, ResetAfter: 16 << 10}}},
			check: func(t *testing.T, p *faultproxy.Proxy, _ time.Duration) { uploaded(t, p, 1, 1) },
		},
		{
			name:  "slow upload",
			rules: []faultproxy.Rule{{Method: "PATCH", Path: faultPatch, Times: 1, Fault: faultproxy.Fault{Delay: 2 * time.Second}}},
			// A slow answer is waited for, not retried.
			check: func(t *testing.T, p *faultproxy.Proxy, took time.Duration) {
				uploaded(t, p, 1, 0)
				if took < 2*time.Second {
					t.Errorf("build took %s, less than the delay", took)
				}
			},
		},
		{
			name:    "token refused",
			rules:   []faultproxy.Rule{{Path: `^/v2/`, Fault: faultproxy.Fault{Auth: 403}}},
			wantErr: `error: pushing HOST/REPO:1: registry HOST: access denied \(log in with docker login or a credential helper\): .*DENIED.*`,
			check: func(t *testing.T, p *faultproxy.Proxy, _ time.Duration) {
				if n := p.Count("GET", `^/faultproxy/token`); n != 1 {
					t.Errorf("%d token requests, want 1: a refusal is not retried", n)
				}
			},
		},
		{
			name:    "503 forever",
			rules:   []faultproxy.Rule{{Method: "PATCH", Path: faultPatch, Fault: faultproxy.Fault{Status: 503}}},
			wantErr: `error: pushing (layer|config) sha256:[0-9a-f]{64} to HOST/REPO:1: 503 Service Unavailable \(UNAVAILABLE: .*\) after 5 attempts`,
			check: func(t *testing.T, p *faultproxy.Proxy, took time.Duration) {
				if took > 30*time.Second {
					t.Errorf("strata gave up after %s, want well under a minute (the backoff totals about 1.5 s)", took)
				}
			},
		},
	}
	for _, tt := range pushes {
		t.Run(tt.name, func(t *testing.T) {
			p := faultproxy.Start(t, upstream)
			for _, r := range tt.rules {
				p.Add(r)
			}
			repo := "team/" + strings.ToLower(strings.NewReplacer(" ", "-").Replace(tt.name))
			r, took := faultBuild(t, cache, ctxDir, "-t", p.Host()+"/"+repo+":1", "--push")
			noStackTrace(t, r.stderr)
			status := manifestStatus(t, upstream, repo, "1")
			if tt.wantErr == "" {
				if r.code != 0 {
					t.Fatalf("exit %d, want 0:\n%s", r.code, r.stderr)
				}
				if !digestRE.MatchString(strings.TrimSpace(r.stdout)) {
					t.Errorf("stdout = %q, want a digest", r.stdout)
				}
				if status != http.StatusOK {
					t.Errorf("the registry answers %d for the tag, want 200", status)
				}
			} else {
				want := strings.NewReplacer("HOST", regexp.QuoteMeta(p.Host()), "REPO", regexp.QuoteMeta(repo)).Replace(tt.wantErr)
				re := regexp.MustCompile("^" + want + "$")
				if r.code != 1 || !re.MatchString(lastLine(r.stderr)) {
					t.Errorf("exit %d, last line %q; want exit 1 and a line matching %s\n%s", r.code, lastLine(r.stderr), re, r.stderr)
				}
				if status != http.StatusNotFound {
					t.Errorf("after a failed push the registry answers %d for the tag, want 404", status)
				}
			}
			if tt.check != nil {
				tt.check(t, p, took)
			}
		})
	}

	t.Run("interrupted push re-run", func(t *testing.T) {
		p := faultproxy.Start(t, upstream)
		const repo = "team/resume"
		tag := p.Host() + "/" + repo + ":1"
		// Every commit of the second blob to be committed is reset.
		p.Add(faultproxy.Rule{Method: "PUT", Path: faultCommit, Match: faultproxy.NthDigest(1),
			Fault: faultproxy.Fault{ResetRequest: true}})
		r, _ := faultBuild(t, cache, ctxDir, "-t", tag, "--push")
		noStackTrace(t, r.stderr)
		var victim string
		for _, req := range p.Requests("PUT", faultCommit) {
			if req.Fault != "" {
				victim = req.Target[strings.Index(req.Target, "digest=")+len("digest="):]
			}
		}
		if victim == "" {
			t.Fatalf("no commit was reset (exit %d):\n%s", r.code, r.stderr)
		}
		re := regexp.MustCompile(`^error: pushing (layer|config) ` + victim + ` to ` + regexp.QuoteMeta(tag) +
			`: connection (reset|closed) by the registry.* after 5 attempts$`)
		if r.code != 1 || !re.MatchString(lastLine(r.stderr)) {
			t.Errorf("exit %d, last line %q; want exit 1 and a line matching %s", r.code, lastLine(r.stderr), re)
		}
		// No partial tag: strata writes the manifest last, and did not.
		if n := p.Count("PUT", `/manifests/`); n != 0 {
			t.Errorf("%d manifest PUTs, want 0", n)
		}
		if s := manifestStatus(t, upstream, repo, "1"); s != http.StatusNotFound {
			t.Errorf("after the failed push the registry answers %d for the tag, want 404", s)
		}
		// Which blobs made it: every blob is asked for (HEAD) before upload.
		present := map[string]bool{}
		digestIn := regexp.MustCompile(`/blobs/(sha256:[0-9a-f]{64})$`)
		for _, req := range p.Requests("HEAD", `/blobs/sha256:`) {
			d := digestIn.FindStringSubmatch(req.Target)[1]
			present[d] = headStatus(t, "http://"+upstream+"/v2/"+repo+"/blobs/"+d) == http.StatusOK
		}
		var missing []string
		for d, ok := range present {
			if !ok {
				missing = append(missing, d)
			}
		}
		if present[victim] || len(missing) == len(present) {
			t.Fatalf("blobs in the registry after the failed push: %v; want %s missing and some others there", present, victim)
		}

		p.Clear()
		p.ResetLog()
		r, _ = faultBuild(t, cache, ctxDir, "-t", tag, "--push")
		if r.code != 0 {
			t.Fatalf("re-run: exit %d:\n%s", r.code, r.stderr)
		}
		for d, ok := range present {
			n := p.Count("PUT", `digest=`+regexp.QuoteMeta(d))
			switch {
			case ok && n != 0:
				t.Errorf("%s, uploaded by the interrupted push, was uploaded again (%d commits)", d, n)
			case !ok && n != 1:
				t.Errorf("%s, missing after the interrupted push, was committed %d times, want 1", d, n)
			}
		}
		if n := p.Count("PATCH", faultPatch); n != len(missing) {
			t.Errorf("the re-run sent %d PATCH, want %d (the missing blobs)", n, len(missing))
		}
		if s := manifestStatus(t, upstream, repo, "1"); s != http.StatusOK {
			t.Errorf("after the re-run the registry answers %d for the tag, want 200", s)
		}
	})

	// FROM through the proxy, with an empty cache, so that the base is
	// pulled (the RUN step needs its layer).
	layer := `/blobs/` + regexp.QuoteMeta(baseLayer(t, upstream))
	t.Run("pull through faults", func(t *testing.T) {
		p := faultproxy.Start(t, upstream)
		p.Add(faultproxy.Rule{Method: "GET", Path: `/manifests/`, Times: 1, Fault: faultproxy.Fault{Status: 502}})
		p.Add(faultproxy.Rule{Method: "GET", Path: layer, Times: 1, Fault: faultproxy.Fault{ResetResponse: true, ResetAfter: 64 << 10}})
		ctx := faultContext(t, p.Host()+"/strata/busybox:latest")
		r, took := faultBuild(t, t.TempDir(), ctx)
		if r.code != 0 {
			t.Fatalf("exit %d:\n%s", r.code, r.stderr)
		}
		if took > 30*time.Second {
			t.Errorf("build took %s", took)
		}
		if n := p.Faulted("GET", `/manifests/`); n != 1 {
			t.Errorf("%d manifest GETs failed, want 1", n)
		}
		reqs := p.Requests("GET", layer)
		if len(reqs) != 2 || !strings.HasPrefix(reqs[1].Range, "bytes=") {
			t.Errorf("base layer requests %+v, want the reset one and one for the rest (Range)", reqs)
		}
	})

	t.Run("pull exhausted", func(t *testing.T) {
		p := faultproxy.Start(t, upstream)
		p.Add(faultproxy.Rule{Method: "GET", Path: layer, Fault: faultproxy.Fault{Status: 503}})
		ctx := faultContext(t, p.Host()+"/strata/busybox:latest")
		r, took := faultBuild(t, t.TempDir(), ctx)
		noStackTrace(t, r.stderr)
		// The base's layers are fetched lazily (image/lazy.go); the
		// error names the layer, the registry, the status and the attempts.
		last := lastLine(r.stderr)
		if r.code != 1 || !strings.HasPrefix(last, "error: ") || !strings.Contains(last, strings.TrimPrefix(layer, "/blobs/")) ||
			!strings.Contains(last, "registry "+p.Host()) || !strings.Contains(last, "UNAVAILABLE") || !strings.HasSuffix(last, "after 5 attempts") {
			t.Errorf("exit %d, last line %q; want exit 1 and an error naming the layer, the registry, the status and the attempts", r.code, last)
		}
		if n := p.Count("GET", layer); n != 5 {
			t.Errorf("%d GETs of the layer, want 5 attempts", n)
		}
		if took > 30*time.Second {
			t.Errorf("strata gave up after %s, want well under a minute (the backoff totals about 1.5 s)", took)
		}
	})
}
