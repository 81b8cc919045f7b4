package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// dockerManifest is one entry of a docker tar's manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// WriteDocker writes img to w as a tar that `docker load` accepts (and
// skopeo reads as docker-archive), tagged with every tag in tags, in that
// order. With no tags the image is loaded untagged. The output depends
// only on the image and the tags: entries come in a fixed order with fixed
// headers.
//
// The layout is docker save's: <config hex>.json, one <digest hex>.tar.gz
// (or .tar) per layer, and manifest.json. Docker cannot load zstd layers,
// so those are stored uncompressed, as <diff_id hex>.tar.
func WriteDocker(img v1.Image, tags []string, w io.Writer) error {
	if err := writeDocker(img, tags, w); err != nil {
		return fmt.Errorf("writing docker tar: %w", err)
	}
	return nil
}

func writeDocker(img v1.Image, tags []string, w io.Writer) error {
	repoTags := []string{}
	seen := map[string]bool{}
	for _, t := range tags {
		tag, err := name.NewTag(t)
		if err != nil {
			return fmt.Errorf("tag %q: %w", t, err)
		}
		if ft := familiarName(tag); !seen[ft] {
			seen[ft] = true
			repoTags = append(repoTags, ft)
		}
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return err
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}

	tw := tar.NewWriter(w)
	sink := &tarLayout{tw: tw}
	m := dockerManifest{Config: cfgName.Hex + ".json", RepoTags: repoTags, Layers: []string{}}
	if err := sink.file(m.Config, int64(len(rawConfig)), bytes.NewReader(rawConfig)); err != nil {
		return err
	}
	written := map[string]bool{}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		mt, err := l.MediaType()
		if err != nil {
			return err
		}
		if mt == types.OCILayerZStd {
			// docker load (20.10) cannot read zstd: store the tar itself.
			diffID, err := l.DiffID()
			if err != nil {
				return err
			}
			file := diffID.Hex + ".tar"
			m.Layers = append(m.Layers, file)
			if !written[file] {
				written[file] = true
				if err := writeUncompressed(sink, file, l, diffID); err != nil {
					return fmt.Errorf("layer %s: %w", d, err)
				}
			}
			continue
		}
		file := d.Hex + dockerLayerExt(mt)
		m.Layers = append(m.Layers, file)
		if written[file] {
			continue
		}
		written[file] = true
		err = writeLayerBlob(l, func(_ v1.Hash, size int64, r io.Reader) error {
			return sink.file(file, size, r)
		})
		if err != nil {
			return err
		}
	}
	manifest, err := json.Marshal([]dockerManifest{m})
	if err != nil {
		return err
	}
	if err := sink.file("manifest.json", int64(len(manifest)), bytes.NewReader(manifest)); err != nil {
		return err
	}
	return tw.Close()
}

// writeUncompressed writes the layer's tar as file. The tar is read twice:
// once to learn its size (which the tar header needs first) and check it
// against diffID, once to copy it.
func writeUncompressed(sink layoutSink, file string, l v1.Layer, diffID v1.Hash) error {
	rc, err := l.Uncompressed()
	if err != nil {
		return err
	}
	got, size, err := v1.SHA256(rc)
	rc.Close()
	if err != nil {
		return err
	}
	if got != diffID {
		return fmt.Errorf("%w: the tar hashes to %s, its diff_id is %s", ErrDigestMismatch, got, diffID)
	}
	rc, err = l.Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	return sink.file(file, size, rc)
}

// dockerLayerExt is the file extension of a layer of media type mt.
func dockerLayerExt(mt types.MediaType) string {
	switch mt {
	case types.OCIUncompressedLayer, types.DockerUncompressedLayer, types.OCIUncompressedRestrictedLayer:
		return ".tar"
	}
	return ".tar.gz"
}

// familiarName spells a tag as docker shows it: busybox:latest,
// user/app:1, example.com/app:1.
func familiarName(t name.Tag) string {
	repo := t.Context().RepositoryStr()
	if t.Context().RegistryStr() != name.DefaultRegistry {
		repo = t.Context().RegistryStr() + "/" + repo
	} else {
		repo = strings.TrimPrefix(repo, "library/")
	}
	return repo + ":" + t.TagStr()
}
