package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/stratabuild/strata/internal/testenv"
)

// exportImage is a small two-layer gzip image (umoci reads only gzip).
func exportImage(t *testing.T) (v1.Image, *Store) {
	t.Helper()
	s := openStore(t)
	img := testImage(t,
		storeLayer(t, s, types.OCILayer, []entry{{name: "etc/", typ: tar.TypeDir}, {name: "etc/motd", body: "hello\n"}}),
		storeLayer(t, s, types.DockerLayer, []entry{{name: "etc/", typ: tar.TypeDir}, {name: "etc/motd", body: "bye\n"}, {name: "etc/.wh.gone"}}),
	)
	return img, s
}

func TestWriteOCIDir(t *testing.T) {
	img, _ := exportImage(t)
	want, _ := img.Digest()
	dir := filepath.Join(t.TempDir(), "layout")
	tags := []string{"example.com/app:1.0", "busybox"}
	if err := WriteOCI(img, tags, dir, false); err != nil {
		t.Fatalf("WriteOCI() = %v", err)
	}

	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	wantAnn := []map[string]string{
		{AnnotationRefName: "1.0", AnnotationImageName: "example.com/app:1.0"},
		{AnnotationRefName: "latest", AnnotationImageName: "docker.io/library/busybox:latest"},
	}
	if len(im.Manifests) != len(wantAnn) {
		t.Fatalf("index.json lists %d manifests, want %d", len(im.Manifests), len(wantAnn))
	}
	for i, d := range im.Manifests {
		if d.Digest != want {
			t.Errorf("manifest %d = %s, want %s", i, d.Digest, want)
		}
		for k, v := range wantAnn[i] {
			if d.Annotations[k] != v {
				t.Errorf("manifest %d annotation %s = %q, want %q", i, k, d.Annotations[k], v)
			}
		}
		if d.Platform == nil || d.Platform.Architecture != "amd64" {
			t.Errorf("manifest %d platform = %v, want linux/amd64", i, d.Platform)
		}
	}
	got, err := idx.Image(want)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(got); err != nil {
		t.Errorf("validate.Image(layout image) = %v", err)
	}

	t.Run("skopeo", func(t *testing.T) {
		testenv.RequireTool(t, "skopeo")
		raw := run(t, "skopeo", "inspect", "--raw", "oci:"+dir+":1.0")
		if d := sha(t, raw); d != want {
			t.Errorf("skopeo sees manifest %s, want %s", d, want)
		}
	})
	t.Run("umoci", func(t *testing.T) {
		testenv.RequireTool(t, "umoci")
		testenv.RequireRoot(t)
		bundle := filepath.Join(t.TempDir(), "bundle")
		run(t, "umoci", "unpack", "--image", dir+":1.0", bundle)
		b, err := os.ReadFile(filepath.Join(bundle, "rootfs", "etc", "motd"))
		if err != nil || string(b) != "bye\n" {
			t.Errorf("umoci unpacked etc/motd = %q, %v; want %q", b, err, "bye\n")
		}
	})
}

func TestWriteOCIArchive(t *testing.T) {
	img, _ := exportImage(t)
	want, _ := img.Digest()
	tests := []struct {
		name string
		tags []string
		ref  string // suffix for skopeo's oci-archive:PATH
	}{
		{name: "untagged"},
		{name: "one tag", tags: []string{"127.0.0.1:5000/app:1"}},
		{name: "one tag by name", tags: []string{"127.0.0.1:5000/app:1"}, ref: ":1"},
		{name: "two tags", tags: []string{"app:1", "app:2"}, ref: ":2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.tar")
			if err := WriteOCI(img, tt.tags, path, true); err != nil {
				t.Fatalf("WriteOCI(tar) = %v", err)
			}
			// Same image, same bytes.
			var buf bytes.Buffer
			if err := WriteOCIArchive(img, tt.tags, &buf); err != nil {
				t.Fatal(err)
			}
			onDisk, _ := os.ReadFile(path)
			if !bytes.Equal(buf.Bytes(), onDisk) {
				t.Errorf("WriteOCIArchive and WriteOCI(tar) differ")
			}
			testenv.RequireTool(t, "skopeo")
			raw := run(t, "skopeo", "inspect", "--raw", "oci-archive:"+path+tt.ref)
			if d := sha(t, raw); d != want {
				t.Errorf("skopeo sees manifest %s, want %s", d, want)
			}
		})
	}
}

func TestWriteOCIDestinations(t *testing.T) {
	img, s := exportImage(t)
	tests := []struct {
		name    string
		asTar   bool
		prepare func(t *testing.T, dest string)
		wantErr string // "" for success
	}{
		{name: "new dir"},
		{name: "empty dir", prepare: func(t *testing.T, dest string) { os.Mkdir(dest, 0o755) }},
		{name: "replace layout", prepare: func(t *testing.T, dest string) {
			if err := WriteOCI(img, []string{"old:1"}, dest, false); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dest, "stale"), nil, 0o644)
		}},
		{name: "non-layout dir", prepare: func(t *testing.T, dest string) {
			os.Mkdir(dest, 0o755)
			os.WriteFile(filepath.Join(dest, "precious"), []byte("x"), 0o644)
		}, wantErr: "not empty"},
		{name: "file where a dir goes", prepare: func(t *testing.T, dest string) {
			os.WriteFile(dest, []byte("x"), 0o644)
		}, wantErr: "not a directory"},
		{name: "replace tar", asTar: true, prepare: func(t *testing.T, dest string) {
			os.WriteFile(dest, []byte("old"), 0o644)
		}},
		{name: "dir where a tar goes", asTar: true, prepare: func(t *testing.T, dest string) {
			os.Mkdir(dest, 0o755)
		}, wantErr: "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dest := filepath.Join(parent, "out")
			if tt.prepare != nil {
				tt.prepare(t, dest)
			}
			before := listDir(t, parent)
			err := WriteOCI(img, []string{"new:1"}, dest, tt.asTar)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("WriteOCI() = %v, want an error containing %q", err, tt.wantErr)
				}
				if after := listDir(t, parent); after != before {
					t.Errorf("a failed WriteOCI changed %s: %s -> %s", parent, before, after)
				}
				return
			}
			if err != nil {
				t.Fatalf("WriteOCI() = %v", err)
			}
			if got := listDir(t, parent); got != "out" {
				t.Errorf("%s holds %q after WriteOCI, want only out", parent, got)
			}
			if tt.asTar {
				return
			}
			if _, err := os.Stat(filepath.Join(dest, "stale")); err == nil {
				t.Errorf("the replaced layout's files survived")
			}
			idx, _ := os.ReadFile(filepath.Join(dest, "index.json"))
			if !strings.Contains(string(idx), `"new:1"`) && !strings.Contains(string(idx), "/new:1") {
				t.Errorf("index.json = %s, want the new tag", idx)
			}
		})
	}

	// A failure half-way (a layer blob went missing) leaves nothing.
	layers, _ := img.Layers()
	d, _ := layers[1].Digest()
	if err := s.Remove(d); err != nil {
		t.Fatal(err)
	}
	for _, asTar := range []bool{false, true} {
		parent := t.TempDir()
		dest := filepath.Join(parent, "out")
		if err := WriteOCI(img, nil, dest, asTar); err == nil {
			t.Errorf("WriteOCI(asTar=%v) with a missing blob = nil error", asTar)
		}
		if got := listDir(t, parent); got != "" {
			t.Errorf("failed WriteOCI(asTar=%v) left %q behind", asTar, got)
		}
	}
}

// listDir names the entries of dir, comma-separated.
func listDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, ",")
}

func TestWriteDocker(t *testing.T) {
	gzipImg, s := exportImage(t)
	zstdImg := testImage(t,
		storeLayer(t, s, types.OCILayer, []entry{{name: "a", body: "gzip"}}),
		storeLayer(t, s, types.OCILayerZStd, []entry{{name: "b", body: "zstd"}}),
	)
	tests := []struct {
		name     string
		zstd     bool
		tags     []string
		wantTags []string
	}{
		{name: "tagged", tags: []string{"example.com/app:1.0", "example.com/app:latest", "example.com/app:1.0"},
			wantTags: []string{"example.com/app:1.0", "example.com/app:latest"}},
		{name: "docker hub", tags: []string{"busybox", "index.docker.io/user/app:2"},
			wantTags: []string{"busybox:latest", "user/app:2"}},
		{name: "untagged"},
		{name: "zstd layer", zstd: true, tags: []string{"app:z"}, wantTags: []string{"app:z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := gzipImg
			if tt.zstd {
				img = zstdImg
			}
			cfgName, _ := img.ConfigName()
			path := filepath.Join(t.TempDir(), "docker.tar")
			err := WriteFile(path, func(w io.Writer) error { return WriteDocker(img, tt.tags, w) })
			if err != nil {
				t.Fatalf("WriteDocker() = %v", err)
			}
			var b1, b2 bytes.Buffer
			if err := WriteDocker(img, tt.tags, &b1); err != nil {
				t.Fatal(err)
			}
			WriteDocker(img, tt.tags, &b2)
			if onDisk, _ := os.ReadFile(path); !bytes.Equal(b1.Bytes(), b2.Bytes()) || !bytes.Equal(b1.Bytes(), onDisk) {
				t.Errorf("WriteDocker output differs between runs")
			}
			m, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(path) })
			if err != nil {
				t.Fatal(err)
			}
			if len(m) != 1 || m[0].Config != cfgName.Hex+".json" || len(m[0].Layers) != 2 {
				t.Fatalf("manifest.json = %+v, want one image with config %s and 2 layers", m, cfgName)
			}
			if tt.zstd {
				// docker load cannot read zstd: that layer is stored as
				// a plain tar named by its diff_id.
				cfg, _ := img.ConfigFile()
				if want := cfg.RootFS.DiffIDs[1].Hex + ".tar"; m[0].Layers[1] != want {
					t.Errorf("zstd layer stored as %s, want %s", m[0].Layers[1], want)
				}
				if got := tarMemberDigest(t, path, m[0].Layers[1]); got != cfg.RootFS.DiffIDs[1] {
					t.Errorf("stored tar hashes to %s, want %s", got, cfg.RootFS.DiffIDs[1])
				}
			}
			if strings.Join(m[0].RepoTags, " ") != strings.Join(tt.wantTags, " ") {
				t.Errorf("RepoTags = %q, want %q", m[0].RepoTags, tt.wantTags)
			}
			var tag *name.Tag
			if len(tt.tags) > 0 {
				t1, _ := name.NewTag(tt.tags[0])
				tag = &t1
			}
			loaded, err := tarball.ImageFromPath(path, tag)
			if err != nil {
				t.Fatal(err)
			}
			// go-containerregistry assumes all layers of a docker tar are
			// compressed alike, so it can only check a mixed one's metadata.
			var vopts []validate.Option
			if tt.zstd {
				vopts = append(vopts, validate.Fast)
			}
			if err := validate.Image(loaded, vopts...); err != nil {
				t.Errorf("validate.Image(docker tar) = %v", err)
			}

			testenv.RequireTool(t, "skopeo")
			out := run(t, "skopeo", "inspect", "docker-archive:"+path)
			var info struct {
				Layers       []string
				Architecture string
			}
			if err := json.Unmarshal(out, &info); err != nil {
				t.Fatalf("skopeo inspect output %s: %v", out, err)
			}
			if len(info.Layers) != 2 || info.Architecture != "amd64" {
				t.Errorf("skopeo sees %d layers, arch %q; want 2, amd64", len(info.Layers), info.Architecture)
			}
		})
	}
}

// tarMemberDigest hashes the member file of the tar at path.
func tarMemberDigest(t *testing.T, path, member string) v1.Hash {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatalf("%s has no %s: %v", path, member, err)
		}
		if hdr.Name == member {
			h, _, err := v1.SHA256(tr)
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
	}
}
