package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stratabuild/strata/internal/testregistry"
)

// Tests of SOURCE_DATE_EPOCH: the same input built on two "machines" (two
// folders, two caches) gives the same image bytes with the epoch, and
// images that differ only in times without it.

const reproEpoch = 1700000000

// reproBuild is one build of testdata/reproducible.
type reproBuild struct {
	digest      string // the manifest digest strata printed
	oci, docker []byte // the OCI and docker tars
	img         ociArchive
	res         result
}

// buildRepro copies testdata/reproducible with cp -r (fresh mtimes, unlike
// cp -a) into a new folder named by where, and builds it with cache, the
// environment env and the extra flags.
func buildRepro(t *testing.T, base, where, cache string, env []string, flags ...string) reproBuild {
	t.Helper()
	ctxDir := filepath.Join(t.TempDir(), where)
	if err := os.MkdirAll(filepath.Dir(ctxDir), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "cp", "-r", "../../testdata/reproducible", ctxDir)
	out := t.TempDir()
	ociTar, dockerTar := filepath.Join(out, "image.tar"), filepath.Join(out, "docker.tar")
	args := append([]string{"build", "--progress=plain", "--cache-dir", cache, "--build-arg", "BASE=" + base,
		"-t", "example.com/repro/app:1", "-o", "type=oci,dest=" + ociTar, "-o", "type=docker,dest=" + dockerTar}, flags...)
	r := strataIn(t, "", "", env, append(args, ctxDir)...)
	if r.code != 0 {
		t.Fatalf("strata %s: exit %d\nstderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	b := reproBuild{digest: strings.TrimSpace(r.stdout), res: r}
	var err error
	if b.oci, err = os.ReadFile(ociTar); err != nil {
		t.Fatal(err)
	}
	if b.docker, err = os.ReadFile(dockerTar); err != nil {
		t.Fatal(err)
	}
	b.img = readOCIArchive(t, b.oci)
	if b.img.digest != b.digest {
		t.Fatalf("OCI tar holds manifest %s, strata printed %s", b.img.digest, b.digest)
	}
	return b
}

// ociArchive is the one image of an OCI archive.
type ociArchive struct {
	digest   string
	manifest struct {
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	config []byte
	layers [][]byte // uncompressed tars
}

func readOCIArchive(t *testing.T, data []byte) ociArchive {
	t.Helper()
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading OCI tar: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[hdr.Name] = body
	}
	blob := func(digest string) []byte {
		t.Helper()
		b, ok := files["blobs/sha256/"+strings.TrimPrefix(digest, "sha256:")]
		if !ok {
			t.Fatalf("OCI tar has no blob %s", digest)
		}
		return b
	}
	var index struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(files["index.json"], &index); err != nil || len(index.Manifests) != 1 {
		t.Fatalf("index.json: %v, %d manifests", err, len(index.Manifests))
	}
	var a ociArchive
	a.digest = index.Manifests[0].Digest
	var m struct {
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
	}
	raw := blob(a.digest)
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &a.manifest); err != nil {
		t.Fatal(err)
	}
	a.config = blob(m.Config.Digest)
	for _, l := range a.manifest.Layers {
		zr, err := gzip.NewReader(bytes.NewReader(blob(l.Digest)))
		if err != nil {
			t.Fatalf("layer %s: %v", l.Digest, err)
		}
		tarData, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("layer %s: %v", l.Digest, err)
		}
		a.layers = append(a.layers, tarData)
	}
	return a
}

// layerEntry is a tar entry with its content's digest.
type layerEntry struct {
	hdr     *tar.Header
	content string
}

func layerEntries(t *testing.T, data []byte) []layerEntry {
	t.Helper()
	var out []layerEntry
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading layer: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, layerEntry{hdr: hdr, content: fmt.Sprintf("%x", sha256.Sum256(body))})
	}
}

// baseImage is the test base's config and layer digests, as the registry
// has them.
func baseImage(t *testing.T, ref string) (config []byte, layers []string) {
	t.Helper()
	config = []byte(run(t, "skopeo", "inspect", "--tls-verify=false", "--config", "--raw", "docker://"+ref))
	var m struct {
		Layers []struct {
			Digest string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(run(t, "skopeo", "inspect", "--tls-verify=false", "--raw", "docker://"+ref)), &m); err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers {
		layers = append(layers, l.Digest)
	}
	return config, layers
}

type historyEntry struct {
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by"`
}

func configHistory(t *testing.T, raw []byte) (time.Time, []historyEntry) {
	t.Helper()
	var c struct {
		Created time.Time      `json:"created"`
		History []historyEntry `json:"history"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c.Created, c.History
}

// noEpoch clears a SOURCE_DATE_EPOCH the test's own environment may have
// (strata takes an empty one for none).
var noEpoch = []string{"SOURCE_DATE_EPOCH="}

func TestReproducibleBuild(t *testing.T) {
	requireE2E(t, "runc", "docker-registry", "skopeo")
	reg := testregistry.Start(t)
	base := busyboxBase(t, reg, t.TempDir())
	baseConfig, baseLayers := baseImage(t, base)
	_, baseHistory := configHistory(t, baseConfig)

	t.Run("with the epoch", func(t *testing.T) {
		epoch := time.Unix(reproEpoch, 0).UTC()
		cacheA := t.TempDir()
		a := buildRepro(t, base, "machine-a/app", cacheA, []string{fmt.Sprintf("SOURCE_DATE_EPOCH=%d", reproEpoch)})
		// The flag wins over the variable.
		b := buildRepro(t, base, "elsewhere/b/checkout", t.TempDir(), []string{"SOURCE_DATE_EPOCH=12345"},
			"--source-date-epoch", fmt.Sprint(reproEpoch))
		if a.digest != b.digest {
			t.Errorf("manifest digests differ: %s and %s", a.digest, b.digest)
		}
		if !bytes.Equal(a.oci, b.oci) {
			t.Errorf("OCI tars differ (%d and %d bytes)", len(a.oci), len(b.oci))
		}
		if !bytes.Equal(a.docker, b.docker) {
			t.Errorf("docker tars differ (%d and %d bytes)", len(a.docker), len(b.docker))
		}

		created, history := configHistory(t, a.img.config)
		if !created.Equal(epoch) {
			t.Errorf("config created = %v, want the epoch %v", created, epoch)
		}
		if !bytes.Contains(a.img.config, []byte(`"created":"2023-11-14T22:13:20Z"`)) {
			t.Errorf("config has no created 2023-11-14T22:13:20Z:\n%s", a.img.config)
		}
		// The base's history and layers are the base's; what the build
		// added has the epoch.
		if len(history) <= len(baseHistory) || !reflect.DeepEqual(history[:len(baseHistory)], baseHistory) {
			t.Errorf("history = %+v, want it to start with the base's %+v", history, baseHistory)
		}
		if baseHistory[0].Created.Equal(epoch) {
			t.Fatal("the base image was made at the epoch: the test cannot tell its history was kept")
		}
		for i, h := range history[len(baseHistory):] {
			if !h.Created.Equal(epoch) {
				t.Errorf("history[%d] %q created %v, want the epoch", len(baseHistory)+i, h.CreatedBy, h.Created)
			}
		}
		if d := digestsOf(a.img); len(d) <= len(baseLayers) || !slices.Equal(d[:len(baseLayers)], baseLayers) {
			t.Errorf("layers %v do not start with the base's %v", digestsOf(a.img), baseLayers)
		}

		// Every entry of the build's own layers: no time after the epoch,
		// no owner names, no access or change times, no PAX records but
		// xattrs (and nanosecond times of entries older than the epoch).
		want := map[string]bool{"app/done.txt": false, "bin/.wh.yes": false, "app/context/app.txt": false, "app/context/.wh.remove-me.txt": false, "app/link.txt": false}
		for i, l := range a.img.layers[len(baseLayers):] {
			for _, e := range layerEntries(t, l) {
				h := e.hdr
				if h.ModTime.After(epoch) {
					t.Errorf("layer %d: %s mtime %v is after the epoch", len(baseLayers)+i, h.Name, h.ModTime)
				}
				if _, ok := want[h.Name]; ok {
					want[h.Name] = true
					if !h.ModTime.Equal(epoch) {
						t.Errorf("layer %d: %s mtime = %v, want the epoch %v", len(baseLayers)+i, h.Name, h.ModTime, epoch)
					}
				}
				if h.Uname != "" || h.Gname != "" || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
					t.Errorf("layer %d: %s has uname %q gname %q atime %v ctime %v, want none", len(baseLayers)+i, h.Name, h.Uname, h.Gname, h.AccessTime, h.ChangeTime)
				}
				for k := range h.PAXRecords {
					if !strings.HasPrefix(k, "SCHILY.xattr.") && k != "mtime" && k != "path" && k != "linkpath" {
						t.Errorf("layer %d: %s has PAX record %s=%q", len(baseLayers)+i, h.Name, k, h.PAXRecords[k])
					}
				}
			}
		}
		for name, seen := range want {
			if !seen {
				t.Errorf("no entry %s in the build's layers", name)
			}
		}

		// A build without the epoch in the same cache reuses none of its
		// layers: the epoch is part of the cache keys.
		r := buildRepro(t, base, "machine-a/app", cacheA, noEpoch)
		if n, all := stepsRun(t, r.res), stepsRun(t, a.res); n != all {
			t.Errorf("a build without the epoch in the epoch build's cache ran %d steps, want all %d\n%s", n, all, r.res.stderr)
		}
		if r.digest == a.digest {
			t.Errorf("the build without the epoch has the epoch build's digest %s", a.digest)
		}
		// And a rebuild with it, all from the cache, is the same image.
		again := buildRepro(t, base, "machine-a/app", cacheA, []string{fmt.Sprintf("SOURCE_DATE_EPOCH=%d", reproEpoch)})
		if n := stepsRun(t, again.res); n != 0 || again.digest != a.digest {
			t.Errorf("rebuild with the epoch from its cache: %d steps run, digest %s; want 0 and %s", n, again.digest, a.digest)
		}
	})

	t.Run("without the epoch", func(t *testing.T) {
		a := buildRepro(t, base, "machine-a/app", t.TempDir(), noEpoch)
		b := buildRepro(t, base, "elsewhere/b/checkout", t.TempDir(), noEpoch)
		if a.digest == b.digest {
			t.Fatalf("two builds without SOURCE_DATE_EPOCH have the same digest %s: the test shows nothing", a.digest)
		}

		// The configs differ only in times, and in the layers' diff IDs,
		// whose tars are compared entry by entry below.
		var ca, cb any
		if err := json.Unmarshal(a.img.config, &ca); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b.img.config, &cb); err != nil {
			t.Fatal(err)
		}
		var diffs []string
		diffJSON("", ca, cb, &diffs)
		timeDerived := regexp.MustCompile(`^(created|history\[\d+\]\.created|rootfs\.diff_ids\[\d+\])$`)
		t.Logf("config fields that differ: %s", strings.Join(diffs, ", "))
		for _, d := range diffs {
			if !timeDerived.MatchString(d) {
				t.Errorf("config field %s differs and is not a time", d)
			}
		}
		if !slices.Contains(diffs, "created") {
			t.Errorf("config created is the same in both builds")
		}

		if len(a.img.layers) != len(b.img.layers) {
			t.Fatalf("%d and %d layers", len(a.img.layers), len(b.img.layers))
		}
		var timeFields []string
		for i := range a.img.layers {
			ea, eb := layerEntries(t, a.img.layers[i]), layerEntries(t, b.img.layers[i])
			if len(ea) != len(eb) {
				t.Errorf("layer %d: %d and %d entries", i, len(ea), len(eb))
				continue
			}
			for j := range ea {
				name := ea[j].hdr.Name
				for _, f := range entryDiff(ea[j], eb[j]) {
					if f == "mtime" || f == "atime" || f == "ctime" {
						timeFields = append(timeFields, fmt.Sprintf("layer %d %s: %s", i, name, f))
						continue
					}
					t.Errorf("layer %d entry %d (%s): %s differs", i, j, name, f)
				}
			}
		}
		t.Logf("layer entries that differ (in times only):\n  %s", strings.Join(timeFields, "\n  "))
		if len(timeFields) == 0 && len(diffs) == 1 {
			t.Error("the layers are the same; only created differs")
		}
	})
}

func digestsOf(a ociArchive) []string {
	var ds []string
	for _, l := range a.manifest.Layers {
		ds = append(ds, l.Digest)
	}
	return ds
}

// entryDiff names what differs between two tar entries: "mtime", "atime"
// and "ctime" for times (headers or PAX records), else the field.
// Format is not compared: a reader infers PAX from a nanosecond mtime.
func entryDiff(a, b layerEntry) []string {
	var out []string
	ha, hb := a.hdr, b.hdr
	if !ha.ModTime.Equal(hb.ModTime) {
		out = append(out, "mtime")
	}
	if !ha.AccessTime.Equal(hb.AccessTime) {
		out = append(out, "atime")
	}
	if !ha.ChangeTime.Equal(hb.ChangeTime) {
		out = append(out, "ctime")
	}
	fields := []struct {
		name string
		a, b any
	}{
		{"name", ha.Name, hb.Name}, {"type", ha.Typeflag, hb.Typeflag}, {"linkname", ha.Linkname, hb.Linkname},
		{"size", ha.Size, hb.Size}, {"mode", ha.Mode, hb.Mode}, {"uid", ha.Uid, hb.Uid}, {"gid", ha.Gid, hb.Gid},
		{"uname", ha.Uname, hb.Uname}, {"gname", ha.Gname, hb.Gname},
		{"devmajor", ha.Devmajor, hb.Devmajor}, {"devminor", ha.Devminor, hb.Devminor},
		{"pax", untimedPAX(ha.PAXRecords), untimedPAX(hb.PAXRecords)}, {"content", a.content, b.content},
	}
	for _, f := range fields {
		if !reflect.DeepEqual(f.a, f.b) {
			out = append(out, f.name)
		}
	}
	return out
}

func untimedPAX(r map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range r {
		if k != "mtime" && k != "atime" && k != "ctime" {
			out[k] = v
		}
	}
	return out
}

// diffJSON appends the paths (created, history[2].created) at which two
// decoded JSON values differ.
func diffJSON(path string, a, b any, out *[]string) {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			*out = append(*out, path)
			return
		}
		keys := map[string]bool{}
		for k := range av {
			keys[k] = true
		}
		for k := range bv {
			keys[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			diffJSON(join(k), av[k], bv[k], out)
		}
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			*out = append(*out, path)
			return
		}
		for i := range av {
			diffJSON(fmt.Sprintf("%s[%d]", path, i), av[i], bv[i], out)
		}
	default:
		if !reflect.DeepEqual(a, b) {
			*out = append(*out, path)
		}
	}
}

// TestSourceDateEpochUsage: a bad value is a usage error naming where it
// came from, and the flag wins over the variable.
func TestSourceDateEpochUsage(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-context")
	tests := []struct {
		name string
		env  []string
		args []string
		want string // in stderr
	}{
		{"flag", noEpoch, []string{"--source-date-epoch", "abc"}, `--source-date-epoch "abc": want whole seconds`},
		{"negative flag", noEpoch, []string{"--source-date-epoch=-1"}, `--source-date-epoch "-1"`},
		{"empty flag", noEpoch, []string{"--source-date-epoch="}, `--source-date-epoch ""`},
		{"variable", []string{"SOURCE_DATE_EPOCH=abc"}, nil, `SOURCE_DATE_EPOCH "abc": want whole seconds`},
		{"past year 9999", []string{"SOURCE_DATE_EPOCH=253402300800"}, nil, `SOURCE_DATE_EPOCH "253402300800"`},
		// Valid values get as far as the (missing) context.
		{"flag wins", []string{"SOURCE_DATE_EPOCH=abc"}, []string{"--source-date-epoch", "0"}, "build context"},
		{"empty variable is none", []string{"SOURCE_DATE_EPOCH="}, nil, "build context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"build"}, tt.args...), missing)
			r := strataIn(t, "", "", tt.env, args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("strata %s with %v: exit %d, stderr %q; want exit 2 and %q", strings.Join(args, " "), tt.env, r.code, r.stderr, tt.want)
			}
			if tt.want == "build context" && strings.Contains(r.stderr, "SOURCE_DATE_EPOCH") {
				t.Errorf("stderr %q names SOURCE_DATE_EPOCH", r.stderr)
			}
		})
	}
}
