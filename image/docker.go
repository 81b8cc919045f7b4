package image

import (
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// untaggedRepo names the image in a docker tar written without tags; it
// only serves to give go-containerregistry a reference and appears nowhere
// in the output (manifest.json then has no RepoTags).
const untaggedRepo = "strata/untagged"

// WriteDocker writes img to w as a tar that `docker load` accepts (and
// skopeo reads as docker-archive), tagged with every tag in tags. With no
// tags the image is loaded untagged.
func WriteDocker(img v1.Image, tags []string, w io.Writer) error {
	refs := map[name.Reference]v1.Image{}
	for _, t := range tags {
		tag, err := name.NewTag(t)
		if err != nil {
			return fmt.Errorf("writing docker tar: tag %q: %w", t, err)
		}
		refs[tag] = img
	}
	if len(refs) == 0 {
		digest, err := img.Digest()
		if err != nil {
			return fmt.Errorf("writing docker tar: %w", err)
		}
		ref, err := name.NewDigest(untaggedRepo + "@" + digest.String())
		if err != nil {
			return fmt.Errorf("writing docker tar: %w", err)
		}
		refs[ref] = img
	}
	if err := tarball.MultiRefWrite(refs, w); err != nil {
		return fmt.Errorf("writing docker tar: %w", err)
	}
	return nil
}
