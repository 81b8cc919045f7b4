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
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Annotations written on each manifest of an OCI layout's index.json.
const (
	// AnnotationRefName holds the tag, as skopeo's oci:DIR:TAG expects.
	AnnotationRefName = "org.opencontainers.image.ref.name"
	// AnnotationImageName holds the full name, as containerd expects.
	AnnotationImageName = "io.containerd.image.name"
)

// WriteOCI writes img as an OCI image layout: the directory dest or, with
// asTar, a tar file of that layout (skopeo's oci-archive). index.json lists
// the manifest once per tag, annotated with the tag
// (org.opencontainers.image.ref.name) and the full name
// (io.containerd.image.name); with no tags it is listed once, unannotated.
//
// The output is assembled under a temporary name next to dest and moved
// into place at the end, so a failure leaves no partial output. An
// existing dest is replaced if it is an OCI layout directory (or an empty
// directory) or a file when asTar is set; anything else is an error. With
// asTar, dest "-" writes the tar to standard output.
func WriteOCI(img v1.Image, tags []string, dest string, asTar bool) error {
	return writeOCI(dest, asTar, func(sink layoutSink) error { return writeLayout(img, tags, sink) })
}

// writeOCI writes a layout that fill puts into a sink: to a directory, a
// tar file, or a tar on stdout ("-").
func writeOCI(dest string, asTar bool, fill func(layoutSink) error) error {
	asArchive := func(w io.Writer) error {
		tw := tar.NewWriter(w)
		if err := fill(&tarLayout{tw: tw}); err != nil {
			return err
		}
		return tw.Close()
	}
	var err error
	switch {
	case asTar && dest == "-":
		err = asArchive(os.Stdout)
	case asTar:
		err = WriteFile(dest, asArchive)
	default:
		err = writeDir(dest, isLayout, func(dir string) error { return fill(&dirLayout{root: dir}) })
	}
	if err != nil {
		return fmt.Errorf("writing OCI layout %s: %w", dest, err)
	}
	return nil
}

// WriteOCIArchive writes img to w as a tar of an OCI image layout, as
// WriteOCI does with asTar. The entries are in a fixed order with fixed
// headers, so the same image gives the same bytes.
func WriteOCIArchive(img v1.Image, tags []string, w io.Writer) error {
	tw := tar.NewWriter(w)
	if err := writeLayout(img, tags, &tarLayout{tw: tw}); err != nil {
		return err
	}
	return tw.Close()
}

// isLayout reports whether dir holds an OCI image layout.
func isLayout(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "oci-layout"))
	return err == nil
}

// layoutSink receives the files of an OCI layout, in order.
type layoutSink interface {
	dir(name string) error
	file(name string, size int64, r io.Reader) error
}

func writeLayout(img v1.Image, tags []string, sink layoutSink) error {
	desc, err := imageDescriptor(img)
	if err != nil {
		return err
	}
	return writeLayoutOf(desc, tags, sink, func(blob blobWriter) error { return writeImageBlobs(img, blob) })
}

// blobWriter writes one blob of a layout, once: a digest already written
// is skipped.
type blobWriter func(h v1.Hash, size int64, r io.Reader) error

// writeLayoutOf writes a layout whose index.json lists desc under tags;
// writeBlobs writes the blobs desc reaches, desc's own last.
func writeLayoutOf(desc v1.Descriptor, tags []string, sink layoutSink, writeBlobs func(blobWriter) error) error {
	index, err := layoutIndexOf(desc, tags)
	if err != nil {
		return err
	}
	layoutFile := []byte(`{"imageLayoutVersion":"1.0.0"}`)
	if err := sink.file("oci-layout", int64(len(layoutFile)), bytes.NewReader(layoutFile)); err != nil {
		return err
	}
	for _, d := range []string{"blobs", "blobs/sha256"} {
		if err := sink.dir(d); err != nil {
			return err
		}
	}
	written := map[v1.Hash]bool{}
	blob := func(h v1.Hash, size int64, r io.Reader) error {
		if written[h] {
			return nil
		}
		written[h] = true
		if !validHash(h) {
			return fmt.Errorf("unsupported digest %q", h.String())
		}
		return sink.file(path.Join("blobs", "sha256", h.Hex), size, r)
	}
	if err := writeBlobs(blob); err != nil {
		return err
	}
	return sink.file("index.json", int64(len(index)), bytes.NewReader(index))
}

// writeImageBlobs writes the config, the layers and the manifest of img.
func writeImageBlobs(img v1.Image, blob blobWriter) error {
	rawManifest, err := img.RawManifest()
	if err != nil {
		return err
	}
	m, err := img.Manifest()
	if err != nil {
		return err
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	if err := blob(m.Config.Digest, int64(len(rawConfig)), bytes.NewReader(rawConfig)); err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		if err := writeLayerBlob(l, blob); err != nil {
			return err
		}
	}
	return blob(digest, int64(len(rawManifest)), bytes.NewReader(rawManifest))
}

func writeLayerBlob(l v1.Layer, blob blobWriter) error {
	d, err := l.Digest()
	if err != nil {
		return err
	}
	size, err := l.Size()
	if err != nil {
		return err
	}
	rc, err := l.Compressed()
	if err != nil {
		return fmt.Errorf("layer %s: %w", d, err)
	}
	defer rc.Close()
	if err := blob(d, size, rc); err != nil {
		return fmt.Errorf("layer %s: %w", d, err)
	}
	return nil
}

// imageDescriptor describes img, with the platform of its config.
func imageDescriptor(img v1.Image) (v1.Descriptor, error) {
	digest, err := img.Digest()
	if err != nil {
		return v1.Descriptor{}, err
	}
	size, err := img.Size()
	if err != nil {
		return v1.Descriptor{}, err
	}
	mt, err := img.MediaType()
	if err != nil {
		return v1.Descriptor{}, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return v1.Descriptor{}, err
	}
	desc := v1.Descriptor{MediaType: mt, Size: size, Digest: digest}
	if cfg.OS != "" && cfg.Architecture != "" {
		desc.Platform = &v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant, OSVersion: cfg.OSVersion}
	}
	return desc, nil
}

// layoutIndexOf renders index.json listing desc once per tag, annotated
// with the tag and the full name, or once unannotated without tags.
func layoutIndexOf(desc v1.Descriptor, tags []string) ([]byte, error) {
	index := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	seen := map[string]bool{}
	for _, t := range tags {
		tag, err := name.NewTag(t)
		if err != nil {
			return nil, fmt.Errorf("tag %q: %w", t, err)
		}
		full := containerdName(tag)
		if seen[full] {
			continue
		}
		seen[full] = true
		d := desc
		d.Annotations = map[string]string{AnnotationRefName: tag.TagStr(), AnnotationImageName: full}
		index.Manifests = append(index.Manifests, d)
	}
	if len(index.Manifests) == 0 {
		index.Manifests = []v1.Descriptor{desc}
	}
	return json.Marshal(index)
}

// containerdName spells a tag the way containerd and docker name images:
// docker.io/library/busybox:latest.
func containerdName(t name.Tag) string {
	reg := t.Context().RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + t.Context().RepositoryStr() + ":" + t.TagStr()
}

// copyBlob copies exactly size bytes of r to w and then reads r to its end,
// so that a verifying reader gets to check its digest.
func copyBlob(w io.Writer, r io.Reader, size int64) error {
	n, err := io.Copy(w, io.LimitReader(r, size))
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("blob is %d bytes, want %d", n, size)
	}
	extra, err := io.Copy(io.Discard, io.LimitReader(r, 1))
	if err != nil {
		return err
	}
	if extra != 0 {
		return fmt.Errorf("blob is longer than %d bytes", size)
	}
	return nil
}

// dirLayout writes a layout into a directory.
type dirLayout struct{ root string }

func (d *dirLayout) dir(name string) error {
	return os.Mkdir(filepath.Join(d.root, filepath.FromSlash(name)), 0o755)
}

func (d *dirLayout) file(name string, size int64, r io.Reader) error {
	f, err := os.OpenFile(filepath.Join(d.root, filepath.FromSlash(name)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if err := copyBlob(f, r, size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// tarLayout writes a layout as tar entries with fixed metadata.
type tarLayout struct{ tw *tar.Writer }

// epoch is the modification time of every entry of an OCI archive.
var epoch = time.Unix(0, 0)

func (t *tarLayout) dir(name string) error {
	return t.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatUSTAR})
}

func (t *tarLayout) file(name string, size int64, r io.Reader) error {
	if size < 0 {
		return errors.New("negative blob size")
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o644, ModTime: epoch, Format: tar.FormatUSTAR}
	if err := t.tw.WriteHeader(hdr); err != nil {
		return err
	}
	return copyBlob(t.tw, r, size)
}
