package main

import (
	"context"
	"io"

	"github.com/stratabuild/strata/image"
)

// export writes the build result to one output. An index (several
// platforms) goes to a registry or an OCI layout whole, and to a local
// folder or tar with one folder per platform; a docker tar takes one
// platform only (checkPlatformOutputs refuses it before the build).
func export(ctx context.Context, a *artifact, o output, f buildFlags, stdout io.Writer) error {
	img, idx := a.img, a.idx
	toFile := func(write func(io.Writer) error) error {
		if o.Dest == "-" {
			return write(stdout)
		}
		return image.WriteFile(o.Dest, write)
	}
	switch o.Type {
	case "registry":
		if idx != nil {
			return image.PushIndex(ctx, idx, f.tags, image.WithInsecure(f.insecure...))
		}
		return image.Push(ctx, img, f.tags, image.WithInsecure(f.insecure...))
	case "oci":
		if o.Attrs["tar"] == "false" {
			if idx != nil {
				return image.WriteOCIIndex(idx, f.tags, o.Dest, false)
			}
			return image.WriteOCI(img, f.tags, o.Dest, false)
		}
		if idx != nil {
			return toFile(func(w io.Writer) error { return image.WriteOCIIndexArchive(idx, f.tags, w) })
		}
		return toFile(func(w io.Writer) error { return image.WriteOCIArchive(img, f.tags, w) })
	case "docker":
		if idx != nil {
			return usagef("--output %s: a docker tar holds one platform", o)
		}
		return toFile(func(w io.Writer) error { return image.WriteDocker(img, f.tags, w) })
	case "local":
		if idx != nil {
			return image.WriteLocalIndex(idx, o.Dest)
		}
		return image.WriteLocal(img, o.Dest)
	case "tar":
		if idx != nil {
			return toFile(func(w io.Writer) error { return image.WriteTarIndex(idx, w) })
		}
		return toFile(func(w io.Writer) error { return image.WriteTar(img, w) })
	}
	return usagef("unknown output type %q", o.Type)
}
