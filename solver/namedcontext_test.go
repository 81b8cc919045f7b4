package solver

import (
	"errors"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"

	"github.com/stratabuild/strata/frontend"
	"github.com/stratabuild/strata/image"
)

// TestLoadLayout: an oci-layout:// context is found by digest, by tag
// (latest by default, or the only image) and by platform in an index,
// and lands in the content store.
func TestLoadLayout(t *testing.T) {
	platformImage := func(arch string) v1.Image {
		img, err := random.Image(64, 2)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := img.ConfigFile()
		cfg = cfg.DeepCopy()
		cfg.OS, cfg.Architecture = "linux", arch
		if img, err = mutate.ConfigFile(img, cfg); err != nil {
			t.Fatal(err)
		}
		return img
	}
	amd, arm := platformImage("amd64"), platformImage("arm64")
	idx := mutate.AppendManifests(empty.Index,
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
	)
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendIndex(idx, layout.WithAnnotations(map[string]string{refNameAnnotation: "example.com/multi:v1"})); err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(amd, layout.WithAnnotations(map[string]string{refNameAnnotation: "latest"})); err != nil {
		t.Fatal(err)
	}
	single := t.TempDir()
	sp, err := layout.Write(single, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.AppendImage(arm); err != nil {
		t.Fatal(err)
	}
	digest := func(img v1.Image) v1.Hash {
		h, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	idxDigest, _ := idx.Digest()

	b, err := New(Options{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		nc       frontend.NamedContext
		platform string
		want     v1.Hash
		err      string
	}{
		{"tag in an index", frontend.NamedContext{Ref: dir, Tag: "v1"}, "linux/arm64", digest(arm), ""},
		{"latest by default", frontend.NamedContext{Ref: dir}, "linux/arm64", digest(amd), ""},
		{"digest of an image", frontend.NamedContext{Ref: dir, Digest: digest(amd).String()}, "linux/amd64", digest(amd), ""},
		{"digest of an index", frontend.NamedContext{Ref: dir, Digest: idxDigest.String()}, "linux/amd64", digest(amd), ""},
		{"the only image", frontend.NamedContext{Ref: single}, "linux/arm64", digest(arm), ""},
		{"missing tag", frontend.NamedContext{Ref: dir, Tag: "v2"}, "linux/amd64", v1.Hash{}, `no image tagged "v2"`},
		{"missing platform", frontend.NamedContext{Ref: dir, Tag: "v1"}, "linux/s390x", v1.Hash{}, "no manifest for the platform"},
		{"missing layout", frontend.NamedContext{Ref: t.TempDir()}, "linux/amd64", v1.Hash{}, "reading OCI layout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.nc.Kind = frontend.ContextOCILayout
			base, err := b.loadLayout(&tt.nc, tt.platform)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("loadLayout = %v, want an error with %q", err, tt.err)
				}
				if tt.name == "missing platform" && !errors.Is(err, image.ErrNoMatchingPlatform) {
					t.Errorf("error %v does not wrap ErrNoMatchingPlatform", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if base.Digest != tt.want {
				t.Errorf("loaded %s, want %s", base.Digest, tt.want)
			}
			if !b.store.blobs.Has(base.Digest) || !b.store.blobs.Has(base.Manifest.Config.Digest) || len(base.Layers) != 2 {
				t.Fatalf("the image is not in the store: %+v", base)
			}
			for _, l := range base.Layers {
				d, _ := l.Digest()
				if !b.store.blobs.Has(d) {
					t.Errorf("layer %s is not in the store", d)
				}
			}
		})
	}
}
