//go:build tools

// Package buildkit pins the BuildKit version the conformance harness runs as its reference
// builder. `tools/buildkit/build.sh` builds cmd/buildkitd and cmd/buildctl from this module
// (a plain `go install github.com/moby/buildkit/cmd/...@version` is refused because of the
// exclude directives in BuildKit's go.mod).
package buildkit

import (
	_ "github.com/moby/buildkit/cmd/buildctl"
	_ "github.com/moby/buildkit/cmd/buildkitd"
)
