package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// PlatformImage is one image of a build for several platforms.
type PlatformImage struct {
	Platform v1.Platform
	Image    v1.Image
}

// NewIndex assembles an OCI image index (media type
// application/vnd.oci.image.index.v1+json) with one manifest per image, in
// the order given, each listed with its media type, size, digest and
// platform, as BuildKit writes the result of a multi-platform build.
// Platforms must be set and distinct. The index is serialised once, here,
// so its digest is fixed.
func NewIndex(images ...PlatformImage) (v1.ImageIndex, error) {
	idx, err := newIndex(images)
	if err != nil {
		return nil, fmt.Errorf("building image index: %w", err)
	}
	return idx, nil
}

func newIndex(images []PlatformImage) (*builtIndex, error) {
	if len(images) == 0 {
		return nil, errors.New("no images")
	}
	b := &builtIndex{images: map[v1.Hash]v1.Image{}}
	im := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{}}
	seen := map[string]bool{}
	for _, pi := range images {
		p := pi.Platform
		if p.OS == "" || p.Architecture == "" {
			return nil, fmt.Errorf("image without a platform (os %q, architecture %q)", p.OS, p.Architecture)
		}
		if seen[p.String()] {
			return nil, fmt.Errorf("two images for %s", p.String())
		}
		seen[p.String()] = true
		mt, err := pi.Image.MediaType()
		if err != nil {
			return nil, err
		}
		size, err := pi.Image.Size()
		if err != nil {
			return nil, err
		}
		digest, err := pi.Image.Digest()
		if err != nil {
			return nil, err
		}
		im.Manifests = append(im.Manifests, v1.Descriptor{MediaType: mt, Size: size, Digest: digest, Platform: &p})
		b.images[digest] = pi.Image
	}
	raw, err := json.Marshal(im)
	if err != nil {
		return nil, fmt.Errorf("encoding index: %w", err)
	}
	b.raw = raw
	if b.digest, b.size, err = v1.SHA256(bytes.NewReader(raw)); err != nil {
		return nil, err
	}
	return b, nil
}

// builtIndex is an index whose bytes are fixed; see NewIndex.
type builtIndex struct {
	raw    []byte
	digest v1.Hash
	size   int64
	images map[v1.Hash]v1.Image
}

var _ v1.ImageIndex = (*builtIndex)(nil)

func (b *builtIndex) MediaType() (types.MediaType, error) { return types.OCIImageIndex, nil }
func (b *builtIndex) Digest() (v1.Hash, error)            { return b.digest, nil }
func (b *builtIndex) Size() (int64, error)                { return b.size, nil }
func (b *builtIndex) RawManifest() ([]byte, error)        { return b.raw, nil }

func (b *builtIndex) IndexManifest() (*v1.IndexManifest, error) {
	return v1.ParseIndexManifest(bytes.NewReader(b.raw))
}

func (b *builtIndex) Image(h v1.Hash) (v1.Image, error) {
	if img, ok := b.images[h]; ok {
		return img, nil
	}
	return nil, fmt.Errorf("index has no image %s", h)
}

func (b *builtIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	return nil, fmt.Errorf("index has no child index %s", h)
}

// Images lists the images of idx with their platforms, in index order.
// Every manifest must be an image with a platform.
func Images(idx v1.ImageIndex) ([]PlatformImage, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []PlatformImage
	for _, d := range im.Manifests {
		if !d.MediaType.IsImage() || d.Platform == nil {
			return nil, fmt.Errorf("index entry %s is not an image with a platform (%s)", d.Digest, d.MediaType)
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		out = append(out, PlatformImage{Platform: *d.Platform, Image: img})
	}
	return out, nil
}

// PlatformDir names the folder of a platform in a local or tar export of
// several platforms, as buildx does: linux_amd64, linux_arm_v7.
func PlatformDir(p v1.Platform) string {
	parts := []string{p.OS, p.Architecture}
	if p.Variant != "" {
		parts = append(parts, p.Variant)
	}
	return strings.Join(parts, "_")
}

// WriteOCIIndex is WriteOCI for an image index: index.json lists idx (once
// per tag, annotated as WriteOCI does), and the blobs hold idx, each of its
// images and their configs and layers, each blob once.
func WriteOCIIndex(idx v1.ImageIndex, tags []string, dest string, asTar bool) error {
	return writeOCI(dest, asTar, func(sink layoutSink) error { return writeIndexLayout(idx, tags, sink) })
}

// WriteOCIIndexArchive is WriteOCIArchive for an image index.
func WriteOCIIndexArchive(idx v1.ImageIndex, tags []string, w io.Writer) error {
	tw := tar.NewWriter(w)
	if err := writeIndexLayout(idx, tags, &tarLayout{tw: tw}); err != nil {
		return err
	}
	return tw.Close()
}

func writeIndexLayout(idx v1.ImageIndex, tags []string, sink layoutSink) error {
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	size, err := idx.Size()
	if err != nil {
		return err
	}
	mt, err := idx.MediaType()
	if err != nil {
		return err
	}
	desc := v1.Descriptor{MediaType: mt, Size: size, Digest: digest}
	return writeLayoutOf(desc, tags, sink, func(blob blobWriter) error { return writeIndexBlobs(idx, blob) })
}

// writeIndexBlobs writes the blobs of every manifest of idx, then idx.
func writeIndexBlobs(idx v1.ImageIndex, blob blobWriter) error {
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, d := range im.Manifests {
		switch {
		case d.MediaType.IsImage():
			img, err := idx.Image(d.Digest)
			if err != nil {
				return err
			}
			if err := writeImageBlobs(img, blob); err != nil {
				return fmt.Errorf("image %s: %w", d.Digest, err)
			}
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return err
			}
			if err := writeIndexBlobs(child, blob); err != nil {
				return err
			}
		default:
			return fmt.Errorf("index entry %s has media type %q, not an image or index", d.Digest, d.MediaType)
		}
	}
	raw, err := idx.RawManifest()
	if err != nil {
		return err
	}
	digest, err := idx.Digest()
	if err != nil {
		return err
	}
	return blob(digest, int64(len(raw)), bytes.NewReader(raw))
}

// WriteLocalIndex is WriteLocal for an image index: the final filesystem
// of each image goes into its own folder of dest, named by PlatformDir.
func WriteLocalIndex(idx v1.ImageIndex, dest string) error {
	images, err := Images(idx)
	if err != nil {
		return fmt.Errorf("writing filesystems to %s: %w", dest, err)
	}
	err = writeDir(dest, nil, func(dir string) error {
		for _, pi := range images {
			sub := filepath.Join(dir, PlatformDir(pi.Platform))
			if err := os.Mkdir(sub, 0o755); err != nil {
				return err
			}
			if err := unpackImage(pi.Image, sub); err != nil {
				return fmt.Errorf("%s: %w", pi.Platform.String(), err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("writing filesystems to %s: %w", dest, err)
	}
	return nil
}

// WriteTarIndex is WriteTar for an image index: one tar stream in which
// the filesystem of each image lies under its folder, named by
// PlatformDir.
func WriteTarIndex(idx v1.ImageIndex, w io.Writer) error {
	images, err := Images(idx)
	if err != nil {
		return fmt.Errorf("writing filesystem tar: %w", err)
	}
	tw := tar.NewWriter(w)
	for _, pi := range images {
		if err := writePrefixedTar(tw, PlatformDir(pi.Platform), pi.Image); err != nil {
			return fmt.Errorf("writing filesystem tar: %s: %w", pi.Platform.String(), err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("writing filesystem tar: %w", err)
	}
	return nil
}

// writePrefixedTar writes the flattened filesystem of img to tw with every
// name (and hard link target) under the folder prefix.
func writePrefixedTar(tw *tar.Writer, prefix string, img v1.Image) error {
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: prefix + "/", Mode: 0o755, ModTime: epoch}); err != nil {
		return err
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	under := func(name string) string {
		name = path.Clean("/" + name)[1:]
		if name == "" {
			return prefix
		}
		return prefix + "/" + name
	}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name := under(hdr.Name)
		if name == prefix {
			continue // the root: the prefix folder stands for it
		}
		if hdr.Typeflag == tar.TypeDir {
			name += "/"
		}
		hdr.Name = name
		if hdr.Typeflag == tar.TypeLink {
			hdr.Linkname = under(hdr.Linkname)
		}
		// The names changed: let the writer pick a format that holds them.
		hdr.Format = tar.FormatUnknown
		delete(hdr.PAXRecords, "path")
		delete(hdr.PAXRecords, "linkpath")
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return err
		}
	}
}
