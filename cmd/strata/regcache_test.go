package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stratabuild/strata/internal/testregistry"
)

// Tests of --cache-to and --cache-from: a CI runner that starts with an
// empty cache directory reuses what another runner exported.

// requestLog is a proxy in front of a registry that records every request
// ("METHOD /path?query"), so a test sees what was uploaded and downloaded.
type requestLog struct {
	mu   sync.Mutex
	reqs []string
}

func (l *requestLog) reset() { l.mu.Lock(); l.reqs = nil; l.mu.Unlock() }

// matching lists the recorded requests with the method whose path and
// query contain every one of parts.
func (l *requestLog) matching(method string, parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
next:
	for _, r := range l.reqs {
		m, uri, _ := strings.Cut(r, " ")
		if m != method {
			continue
		}
		for _, p := range parts {
			if !strings.Contains(uri, p) {
				continue next
			}
		}
		out = append(out, r)
	}
	return out
}

// recordingProxy starts a reverse proxy to the registry at host on
// 127.0.0.1 and returns its host:port.
func recordingProxy(t *testing.T, host string) (string, *requestLog) {
	t.Helper()
	log := &requestLog{}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log.mu.Lock()
		log.reqs = append(log.reqs, r.Method+" "+r.URL.RequestURI())
		log.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://"), log
}

type buildMetadata struct {
	Digest   string `json:"containerimage.digest"`
	Executed int    `json:"strata.steps.executed"`
	Cached   int    `json:"strata.steps.cached"`
}

// cacheBuild builds ctxDir with a fresh cache dir unless cache is given,
// and returns its metadata and output.
func cacheBuild(t *testing.T, cache, ctxDir string, args ...string) (buildMetadata, result) {
	t.Helper()
	md := filepath.Join(t.TempDir(), "md.json")
	all := append([]string{"build", "--progress=plain", "--cache-dir", cache, "--metadata-file", md}, args...)
	r := mustStrata(t, append(all, ctxDir)...)
	var m buildMetadata
	data, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m, r
}

// imageLayers lists the layer digests of the image ref, via skopeo.
func imageLayers(t *testing.T, ref string) []string {
	t.Helper()
	var m struct {
		Layers []struct{ Digest string }
	}
	if err := json.Unmarshal([]byte(run(t, "skopeo", "inspect", "--raw", "--tls-verify=false", "docker://"+ref)), &m); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range m.Layers {
		out = append(out, l.Digest)
	}
	return out
}

// layerDirs counts the unpacked layers in a cache dir.
func layerDirs(t *testing.T, cache string) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(cache, "layers"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() {
			n++
		}
	}
	return n
}

const cacheDockerfile = `FROM BASE AS build
RUN echo compiled > /app.bin
COPY src.txt /src.txt
RUN cat /src.txt >> /app.bin && echo step > /step

FROM BASE
COPY --from=build /app.bin /usr/local/bin/app.bin
RUN echo final > /final
WORKDIR /work
`

func TestRegistryCache(t *testing.T) {
	requireE2E(t, "runc", "docker-registry", "skopeo")
	upstream := testregistry.Start(t)
	reg, log := recordingProxy(t, upstream)
	base := busyboxBase(t, reg, t.TempDir())
	ctxDir := writeContext(t, strings.ReplaceAll(cacheDockerfile, "BASE", base), map[string]string{"src.txt": "source\n"})
	// The build stage has 3 steps that make layers, the final one 3.
	const buildSteps, allSteps = 3, 6

	// Runner A builds from nothing and exports both kinds of cache.
	runnerA := t.TempDir()
	a, _ := cacheBuild(t, runnerA, ctxDir, "-t", reg+"/team/app:1", "--push",
		"--cache-to", "type=registry,ref="+reg+"/team/cache:max,mode=max")
	if a.Executed != allSteps || !digestRE.MatchString(a.Digest) {
		t.Fatalf("runner A: %+v, want %d steps run", a, allSteps)
	}
	layers := imageLayers(t, reg+"/team/app:1")

	t.Run("max", func(t *testing.T) {
		log.reset()
		runnerB := t.TempDir()
		b, r := cacheBuild(t, runnerB, ctxDir, "-t", reg+"/team/app:1", "-t", reg+"/team/other:1", "--push",
			"--cache-from", "type=registry,ref="+reg+"/team/cache:max",
			"--cache-to", "type=registry,ref="+reg+"/team/cache:max,mode=max")
		if b.Executed != 0 || b.Cached != allSteps {
			t.Errorf("runner B ran %d steps and hit %d, want 0 and %d\n%s", b.Executed, b.Cached, allSteps, r.stderr)
		}
		if b.Digest != a.Digest {
			t.Errorf("runner B built %s, runner A %s", b.Digest, a.Digest)
		}
		// No layer was downloaded, none uploaded: the pushes to the
		// image's repository found them there, the push to another
		// repository mounted them, and the cache export found them too.
		for _, l := range layers {
			if got := log.matching("GET", "/blobs/"+l); len(got) > 0 {
				t.Errorf("runner B downloaded layer %s: %v", l, got)
			}
			if got := log.matching("PUT", "/blobs/uploads/", "digest="+strings.ReplaceAll(l, ":", "%3A")); len(got) > 0 {
				t.Errorf("runner B uploaded layer %s: %v", l, got)
			}
		}
		if got := log.matching("PATCH", "/blobs/uploads/"); len(got) > 1 {
			t.Errorf("runner B uploaded %d blobs, want at most the config of team/other: %v", len(got), got)
		}
		if got := log.matching("POST", "/v2/team/other/blobs/uploads/", "mount="); len(got) == 0 {
			t.Errorf("runner B mounted no layer into team/other")
		}
		if n := layerDirs(t, runnerB); n != 0 {
			t.Errorf("runner B unpacked %d layers, want none", n)
		}
		if got := imageLayers(t, reg+"/team/other:1"); strings.Join(got, " ") != strings.Join(layers, " ") {
			t.Errorf("team/other has layers %v, want %v", got, layers)
		}

		// A step that misses runs over layers fetched from the cache.
		changed := copyDir(t, ctxDir)
		if err := os.WriteFile(filepath.Join(changed, "src.txt"), []byte("changed\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		root := filepath.Join(t.TempDir(), "root")
		c, r := cacheBuild(t, t.TempDir(), changed, "-o", "type=local,dest="+root, "--explain-cache",
			"--cache-from", reg+"/team/cache:max")
		if c.Executed != 5 {
			t.Errorf("after a change to src.txt, %d steps ran, want 5 (all but the first RUN)", c.Executed)
		}
		// The runner has no build of its own to compare with: the miss
		// is explained against the build that exported the cache.
		if want := "COPY src.txt /src.txt: miss: file src.txt changed (sha256:"; !strings.Contains(r.stderr, want) {
			t.Errorf("the cold runner's explanation lacks %q:\n%s", want, r.stderr)
		}
		wantFile(t, filepath.Join(root, "usr/local/bin/app.bin"), "compiled\nchanged\n")
	})

	t.Run("min", func(t *testing.T) {
		// mode=min keeps only the final stage's steps: the build stage
		// runs again, and the final stage hits if the build stage made
		// the same layers, which SOURCE_DATE_EPOCH makes it do.
		epoch := []string{"--source-date-epoch", "1700000000"}
		e, _ := cacheBuild(t, t.TempDir(), ctxDir, append(epoch, "--cache-to", "type=registry,ref="+reg+"/team/cache:min")...)
		m, r := cacheBuild(t, t.TempDir(), ctxDir, append(epoch, "--explain-cache", "--cache-from", "type=registry,ref="+reg+"/team/cache:min")...)
		if want := "RUN echo compiled > /app.bin: miss: the build that exported the imported cache had the same inputs, but the cache does not hold this step's result"; !strings.Contains(r.stderr, want) {
			t.Errorf("the min import's first miss is not explained as left out of the cache:\n%s", r.stderr)
		}
		if m.Executed != buildSteps || m.Cached != allSteps-buildSteps {
			t.Errorf("with the min cache, %d steps ran and %d hit, want %d and %d\n%s", m.Executed, m.Cached, buildSteps, allSteps-buildSteps, r.stderr)
		}
		if m.Digest != e.Digest {
			t.Errorf("with the min cache the build gave %s, want %s", m.Digest, e.Digest)
		}
	})

	t.Run("local", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "cache")
		cacheBuild(t, runnerA, ctxDir, "--cache-to", "type=local,dest="+dir+",mode=max")
		run(t, "skopeo", "inspect", "--raw", "oci:"+dir) // a valid OCI layout
		m, _ := cacheBuild(t, t.TempDir(), ctxDir, "--cache-from", "type=local,src="+dir)
		if m.Executed != 0 || m.Digest != a.Digest {
			t.Errorf("from the local cache: %+v, want 0 steps run and digest %s", m, a.Digest)
		}
	})

	t.Run("missing", func(t *testing.T) {
		// A cache that is not there yet is no error: the first
		// pipeline of a branch has none.
		m, r := cacheBuild(t, t.TempDir(), ctxDir, "--cache-from", reg+"/team/cache:nothing")
		if m.Executed != allSteps || !strings.Contains(r.stderr, "cache "+reg+"/team/cache:nothing not found") {
			t.Errorf("with a missing cache: %+v\n%s", m, r.stderr)
		}
	})
}

func TestCacheMountTravels(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	base := busyboxBase(t, reg, t.TempDir())
	// V changes the step's key, so that it runs on runner B too; the
	// cache mount is what carries "downloaded" from A to B.
	ctxDir := writeContext(t, `FROM `+base+`
ARG V
RUN --mount=type=cache,id=pkgs,target=/var/cache/pkgs \
    if [ -f /var/cache/pkgs/dl ]; then echo "reused $(cat /var/cache/pkgs/dl)" > /seen; \
    else echo "from-$V" > /var/cache/pkgs/dl; echo fresh > /seen; fi
`, map[string]string{})

	cacheBuild(t, t.TempDir(), ctxDir, "--build-arg", "V=A",
		"--cache-to", "type=registry,ref="+reg+"/c/mounts:on,cache-mounts=true",
		"--cache-to", "type=registry,ref="+reg+"/c/mounts:off",
		"--cache-to", "type=registry,ref="+reg+"/c/mounts:small,cache-mounts=true,cache-mounts-max-size=4")

	for _, tc := range []struct{ tag, want, warning string }{
		{"on", "reused from-A\n", ""},
		{"off", "fresh\n", ""},
		{"small", "fresh\n", "not exported"},
	} {
		t.Run(tc.tag, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "root")
			m, _ := cacheBuild(t, t.TempDir(), ctxDir, "--build-arg", "V=B", "-o", "type=local,dest="+root,
				"--cache-from", "type=registry,ref="+reg+"/c/mounts:"+tc.tag)
			if m.Executed != 1 {
				t.Errorf("runner B ran %d steps, want 1", m.Executed)
			}
			wantFile(t, filepath.Join(root, "seen"), tc.want)
		})
	}
}

func TestCacheNeverMixesLayers(t *testing.T) {
	requireE2E(t, "runc", "docker-registry")
	reg := testregistry.Start(t)
	base := busyboxBase(t, reg, t.TempDir())
	// The build stage is not reproducible: each run makes other bytes.
	ctxDir := writeContext(t, `FROM `+base+` AS build
RUN head -c 16 /dev/urandom | od -An -tx1 > /rand
FROM `+base+`
COPY --from=build /rand /rand
RUN cp /rand /rand.copy
`, map[string]string{})
	rootA, rootB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	cacheBuild(t, t.TempDir(), ctxDir, "-o", "type=local,dest="+rootA, "--cache-to", "type=registry,ref="+reg+"/c/mix:min")
	// With the min cache, runner B runs the build stage again and gets
	// other random bytes; the final stage's records were made over runner
	// A's bytes, so they must not be used: the image has B's bytes, and
	// its copy agrees.
	m, r := cacheBuild(t, t.TempDir(), ctxDir, "-o", "type=local,dest="+rootB, "--cache-from", "type=registry,ref="+reg+"/c/mix:min")
	if m.Executed != 3 {
		t.Errorf("runner B ran %d steps, want 3 (the build stage made other bytes)\n%s", m.Executed, r.stderr)
	}
	a, err := os.ReadFile(filepath.Join(rootA, "rand"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(rootB, "rand"))
	if err != nil {
		t.Fatal(err)
	}
	if string(a) == string(b) {
		t.Errorf("runner B's image has runner A's random bytes %q", a)
	}
	wantFile(t, filepath.Join(rootB, "rand.copy"), string(b))
}

func TestRegistryCacheBlobsDeleted(t *testing.T) {
	// A registry's retention policy deleted the cache's layers but kept
	// its manifest: the build runs the steps instead of failing when it
	// first reads a layer, and still uses the records whose blobs are
	// there.
	requireE2E(t, "runc", "docker-registry", "skopeo")
	reg := testregistry.Start(t)
	base := busyboxBase(t, reg, t.TempDir())
	ctxDir := writeContext(t, "FROM "+base+"\nRUN echo one > /one\nRUN cat /one /one > /two\n", map[string]string{})
	cache := reg + "/c/deleted:max"
	cacheBuild(t, t.TempDir(), ctxDir, "--cache-to", "type=registry,ref="+cache+",mode=max")
	var m struct{ Layers []struct{ Digest string } }
	if err := json.Unmarshal([]byte(run(t, "skopeo", "inspect", "--raw", "--tls-verify=false", "docker://"+cache)), &m); err != nil || len(m.Layers) != 2 {
		t.Fatalf("cache manifest: %v, %+v", err, m)
	}
	// One of the two layers goes: its step runs, and so may the other
	// (a key names the layer below it, which the RUN makes again with
	// other times).
	req, err := http.NewRequest(http.MethodDelete, "http://"+reg+"/v2/c/deleted/blobs/"+m.Layers[0].Digest, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("deleting a blob: %v %v", resp, err)
	}
	resp.Body.Close()
	root := filepath.Join(t.TempDir(), "root")
	b, r := cacheBuild(t, t.TempDir(), ctxDir, "-o", "type=local,dest="+root, "--cache-from", cache)
	if !strings.Contains(r.stderr, "1 of its blobs are missing") {
		t.Errorf("no warning about the missing blob:\n%s", r.stderr)
	}
	if b.Executed+b.Cached != 2 || b.Executed == 0 {
		t.Errorf("%d steps ran and %d hit, want the step whose layer is gone run\n%s", b.Executed, b.Cached, r.stderr)
	}
	wantFile(t, filepath.Join(root, "two"), "one\none\n")
}
