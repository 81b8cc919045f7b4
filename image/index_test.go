package image

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/stratabuild/strata/internal/testenv"
)

// archImage is an image for one architecture: a layer shared by every
// architecture and one of its own with /arch and a hard link to it.
func archImage(t *testing.T, s *Store, arch string) v1.Image {
	t.Helper()
	shared := storeLayer(t, s, types.OCILayer, []entry{{name: "etc/", typ: tar.TypeDir}, {name: "etc/motd", body: "shared\n"}})
	own := storeLayer(t, s, types.OCILayer, []entry{
		{name: "arch", body: arch + "\n"},
		{name: "arch-link", typ: tar.TypeLink, link: "arch"},
	})
	cfg := &v1.ConfigFile{
		Architecture: arch,
		OS:           "linux",
		Config:       v1.Config{Cmd: []string{"/bin/sh"}},
		RootFS:       v1.RootFS{Type: "layers"},
	}
	var ls []v1.Layer
	for _, l := range []Layer{shared, own} {
		diffID, _ := l.DiffID()
		cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, diffID)
		cfg.History = append(cfg.History, v1.History{CreatedBy: "layer"})
		ls = append(ls, l)
	}
	img, err := New(cfg, ls)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// twoPlatforms is an index of an amd64 and an arm64 image.
func twoPlatforms(t *testing.T) (v1.ImageIndex, []PlatformImage) {
	t.Helper()
	s := openStore(t)
	images := []PlatformImage{
		{Platform: v1.Platform{OS: "linux", Architecture: "amd64"}, Image: archImage(t, s, "amd64")},
		{Platform: v1.Platform{OS: "linux", Architecture: "arm64"}, Image: archImage(t, s, "arm64")},
	}
	idx, err := NewIndex(images...)
	if err != nil {
		t.Fatalf("NewIndex() = %v", err)
	}
	return idx, images
}

func TestNewIndex(t *testing.T) {
	idx, images := twoPlatforms(t)
	if err := validate.Index(idx); err != nil {
		t.Errorf("validate.Index() = %v", err)
	}
	if mt, _ := idx.MediaType(); mt != types.OCIImageIndex {
		t.Errorf("MediaType() = %s, want %s", mt, types.OCIImageIndex)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 2 {
		t.Fatalf("index lists %d manifests, want 2", len(im.Manifests))
	}
	for i, d := range im.Manifests {
		want, _ := images[i].Image.Digest()
		if d.Digest != want || d.MediaType != types.OCIManifestSchema1 {
			t.Errorf("manifest %d = %s %s, want %s %s", i, d.MediaType, d.Digest, types.OCIManifestSchema1, want)
		}
		if d.ArtifactType != "" || len(d.Annotations) != 0 {
			t.Errorf("manifest %d has artifactType %q, annotations %v; BuildKit sets neither on images", i, d.ArtifactType, d.Annotations)
		}
		if d.Platform == nil || d.Platform.String() != images[i].Platform.String() {
			t.Errorf("manifest %d platform = %v, want %s", i, d.Platform, images[i].Platform.String())
		}
	}
	got, err := Images(idx)
	if err != nil || len(got) != 2 || got[1].Platform.Architecture != "arm64" {
		t.Errorf("Images() = %v, %v", got, err)
	}

	// The same images give the same index.
	again, err := NewIndex(images...)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := idx.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("NewIndex twice: digests %s and %s", d1, d2)
	}

	errs := []struct {
		name   string
		images []PlatformImage
		want   string
	}{
		{"none", nil, "no images"},
		{"duplicate", []PlatformImage{images[0], images[0]}, "two images for linux/amd64"},
		{"no platform", []PlatformImage{{Image: images[0].Image}}, "image without a platform"},
	}
	for _, tt := range errs {
		if _, err := NewIndex(tt.images...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewIndex(%s) = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestPushIndexAndPullEachPlatform(t *testing.T) {
	host, _, _ := memRegistry(t)
	idx, images := twoPlatforms(t)
	tag := host + "/multi/app:1"
	if err := PushIndex(context.Background(), idx, []string{tag}); err != nil {
		t.Fatalf("PushIndex() = %v", err)
	}
	want, _ := idx.Digest()
	for _, pi := range images {
		b, err := Pull(context.Background(), tag, WithStore(openStore(t)), WithPlatform(pi.Platform))
		if err != nil {
			t.Fatalf("Pull(%s, %s) = %v", tag, pi.Platform.String(), err)
		}
		wantImg, _ := pi.Image.Digest()
		if b.Index != want || b.Digest != wantImg {
			t.Errorf("Pull(%s) = index %s image %s, want %s %s", pi.Platform.String(), b.Index, b.Digest, want, wantImg)
		}
		if b.Config.Architecture != pi.Platform.Architecture {
			t.Errorf("Pull(%s) config architecture = %s", pi.Platform.String(), b.Config.Architecture)
		}
	}
}

func TestWriteOCIIndex(t *testing.T) {
	idx, images := twoPlatforms(t)
	want, _ := idx.Digest()
	dir := filepath.Join(t.TempDir(), "layout")
	if err := WriteOCIIndex(idx, []string{"example.com/app:1.0"}, dir, false); err != nil {
		t.Fatalf("WriteOCIIndex() = %v", err)
	}
	root, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := root.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index.json lists %d manifests, want 1 (the image index)", len(im.Manifests))
	}
	d := im.Manifests[0]
	if d.Digest != want || d.MediaType != types.OCIImageIndex || d.Annotations[AnnotationRefName] != "1.0" || d.Annotations[AnnotationImageName] != "example.com/app:1.0" {
		t.Errorf("index.json lists %+v, want the index %s annotated with the tag", d, want)
	}
	got, err := root.ImageIndex(want)
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Index(got); err != nil {
		t.Errorf("validate.Index(layout index) = %v", err)
	}
	// The shared layer is one blob: 1 index + 2 manifests + 2 configs + 3 layers.
	blobs, err := os.ReadDir(filepath.Join(dir, "blobs", "sha256"))
	if err != nil || len(blobs) != 8 {
		t.Errorf("layout has %d blobs (%v), want 8", len(blobs), err)
	}

	t.Run("archive is deterministic", func(t *testing.T) {
		var a, b bytes.Buffer
		if err := WriteOCIIndexArchive(idx, []string{"app:1"}, &a); err != nil {
			t.Fatal(err)
		}
		if err := WriteOCIIndexArchive(idx, []string{"app:1"}, &b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("two archives of one index differ")
		}
	})
	t.Run("skopeo", func(t *testing.T) {
		testenv.RequireTool(t, "skopeo")
		raw := run(t, "skopeo", "inspect", "--raw", "oci:"+dir+":1.0")
		if d := sha(t, raw); d != want {
			t.Errorf("skopeo sees %s, want the index %s", d, want)
		}
		for _, pi := range images {
			cfg := run(t, "skopeo", "--override-arch", pi.Platform.Architecture, "inspect", "--config", "--raw", "oci:"+dir+":1.0")
			if !bytes.Contains(cfg, []byte(`"architecture":"`+pi.Platform.Architecture+`"`)) {
				t.Errorf("skopeo --override-arch %s: config %s", pi.Platform.Architecture, cfg)
			}
		}
	})
}

func TestWriteLocalIndex(t *testing.T) {
	idx, _ := twoPlatforms(t)
	dest := filepath.Join(t.TempDir(), "out")
	if err := WriteLocalIndex(idx, dest); err != nil {
		t.Fatalf("WriteLocalIndex() = %v", err)
	}
	for _, arch := range []string{"amd64", "arm64"} {
		dir := filepath.Join(dest, "linux_"+arch)
		b, err := os.ReadFile(filepath.Join(dir, "arch"))
		if err != nil || string(b) != arch+"\n" {
			t.Errorf("%s/arch = %q, %v", dir, b, err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "etc", "motd")); err != nil || string(b) != "shared\n" {
			t.Errorf("%s/etc/motd = %q, %v", dir, b, err)
		}
	}
	entries, _ := os.ReadDir(dest)
	if len(entries) != 2 {
		t.Errorf("%s has %d entries, want 2", dest, len(entries))
	}
}

func TestWriteTarIndex(t *testing.T) {
	idx, _ := twoPlatforms(t)
	var buf bytes.Buffer
	if err := WriteTarIndex(idx, &buf); err != nil {
		t.Fatalf("WriteTarIndex() = %v", err)
	}
	tr := tar.NewReader(&buf)
	var names []string
	files := map[string]string{}
	links := map[string]string{}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeReg:
			b, _ := io.ReadAll(tr)
			files[hdr.Name] = string(b)
		case tar.TypeLink:
			links[hdr.Name] = hdr.Linkname
		}
	}
	sort.Strings(names)
	for _, arch := range []string{"amd64", "arm64"} {
		p := "linux_" + arch + "/"
		if files[p+"arch"] != arch+"\n" || files[p+"etc/motd"] != "shared\n" {
			t.Errorf("%sarch = %q, %setc/motd = %q", p, files[p+"arch"], p, files[p+"etc/motd"])
		}
		if links[p+"arch-link"] != p+"arch" {
			t.Errorf("%sarch-link links to %q, want %q", p, links[p+"arch-link"], p+"arch")
		}
	}
	for _, n := range names {
		if !strings.HasPrefix(n, "linux_amd64/") && !strings.HasPrefix(n, "linux_arm64/") {
			t.Errorf("entry %q is outside the platform folders", n)
		}
	}
}

func TestPlatformDir(t *testing.T) {
	tests := []struct {
		p    v1.Platform
		want string
	}{
		{v1.Platform{OS: "linux", Architecture: "amd64"}, "linux_amd64"},
		{v1.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}, "linux_arm_v7"},
	}
	for _, tt := range tests {
		if got := PlatformDir(tt.p); got != tt.want {
			t.Errorf("PlatformDir(%s) = %q, want %q", tt.p.String(), got, tt.want)
		}
	}
}
