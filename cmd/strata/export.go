package main

import (
	"context"
	"io"
	"runtime"

	"github.com/stratabuild/strata/image"
	"github.com/stratabuild/strata/solver"
)

// export writes the build result to one output.
func export(ctx context.Context, res *solver.Result, o output, f buildFlags, stdout io.Writer) error {
	img := res.Image
	toFile := func(write func(io.Writer) error) error {
		if o.Dest == "-" {
			return write(stdout)
		}
		return image.WriteFile(o.Dest, write)
	}
	switch o.Type {
	case "registry":
		return image.Push(ctx, img, f.tags, image.WithInsecure(f.insecure...))
	case "oci":
		if o.Attrs["tar"] == "false" {
			return image.WriteOCI(img, f.tags, o.Dest, false)
		}
		return toFile(func(w io.Writer) error { return image.WriteOCIArchive(img, f.tags, w) })
	case "docker":
		return toFile(func(w io.Writer) error { return image.WriteDocker(img, f.tags, w) })
	case "local":
		return image.WriteLocal(img, o.Dest)
	case "tar":
		return toFile(func(w io.Writer) error { return image.WriteTar(img, w) })
	}
	return usagef("unknown output type %q", o.Type)
}

func hostArch() string { return runtime.GOARCH }
