package main

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Image is what the harness compares of one built image (one platform of a build).
type Image struct {
	Platform string                     // "linux/amd64", "linux/arm/v7"
	Config   map[string]json.RawMessage // the config blob's "config" object
	History  []History
	Layers   int // diff_ids
	Tree     Tree
}

// History is one entry of the config's history.
type History struct {
	CreatedBy  string `json:"created_by"`
	EmptyLayer bool   `json:"empty_layer"`
}

// readOCITar reads an OCI layout tar (what `-o type=oci,dest=x.tar` writes) and returns its
// images keyed by platform. The tar is unpacked next to itself, in dir, for ggcr's layout
// reader; an index nested in the top index (a multi-platform build) is followed.
func readOCITar(tarPath, dir string) (map[string]*Image, error) {
	if err := untar(tarPath, dir); err != nil {
		return nil, err
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		return nil, err
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, err
	}
	images := map[string]*Image{}
	if err := collectImages(idx, images); err != nil {
		return nil, err
	}
	if len(images) == 0 {
		return nil, fmt.Errorf("%s: no image in the layout", tarPath)
	}
	return images, nil
}

func collectImages(idx v1.ImageIndex, images map[string]*Image) error {
	m, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	for _, desc := range m.Manifests {
		switch {
		case desc.MediaType.IsIndex():
			child, err := idx.ImageIndex(desc.Digest)
			if err != nil {
				return err
			}
			if err := collectImages(child, images); err != nil {
				return err
			}
		case desc.MediaType.IsImage():
			// Attestation manifests (BuildKit's provenance, unknown/unknown) are not images.
			if desc.Platform != nil && desc.Platform.OS == "unknown" {
				continue
			}
			img, err := idx.Image(desc.Digest)
			if err != nil {
				return err
			}
			im, err := readImage(img)
			if err != nil {
				return fmt.Errorf("image %s: %w", desc.Digest, err)
			}
			if _, dup := images[im.Platform]; dup {
				return fmt.Errorf("two images for %s", im.Platform)
			}
			images[im.Platform] = im
		}
	}
	return nil
}

func readImage(img v1.Image) (*Image, error) {
	raw, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	var cfg struct {
		OS           string                     `json:"os"`
		Architecture string                     `json:"architecture"`
		Variant      string                     `json:"variant"`
		Config       map[string]json.RawMessage `json:"config"`
		History      []History                  `json:"history"`
		RootFS       struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	platform := cfg.OS + "/" + cfg.Architecture
	if cfg.Variant != "" {
		platform += "/" + cfg.Variant
	}
	im := &Image{Platform: platform, Config: cfg.Config, History: cfg.History, Layers: len(cfg.RootFS.DiffIDs)}

	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	b := newTreeBuilder()
	for i, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		err = b.Apply(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
	}
	im.Tree = b.Tree()
	return im, nil
}

// untar unpacks an OCI layout tar: regular files and directories only, names kept inside dir.
func untar(tarPath, dir string) error {
	f, err := os.Open(tarPath)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", tarPath, err)
		}
		name := filepath.Clean(hdr.Name)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("%s: entry %q leaves the layout", tarPath, hdr.Name)
		}
		target := filepath.Join(dir, name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg, tar.TypeRegA:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			if err := writeFile(target, tr); err != nil {
				return err
			}
		default:
			if !strings.HasPrefix(name, "blobs") && name != "index.json" && name != "oci-layout" {
				continue
			}
			return fmt.Errorf("%s: entry %q has unsupported type %q", tarPath, hdr.Name, hdr.Typeflag)
		}
	}
}

func writeFile(name string, r io.Reader) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
