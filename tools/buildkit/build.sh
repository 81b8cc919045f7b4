#!/usr/bin/env bash
# build.sh — build BuildKit's buildkitd and buildctl from this tools module, once, and print
# the folder that holds them.
#
# The binaries are cached under $STRATA_BUILDKIT_CACHE (default: strata-buildkit-bin/ beside
# the Go build cache), in a folder named for the BuildKit version, the Go version and a hash
# of go.sum and this script, so a second run (or a second checkout on the same machine)
# builds nothing. To move to another BuildKit: go get github.com/moby/buildkit@vX.Y.Z here,
# then go mod tidy (this module only, never the root module).
# A cold build takes about 5 minutes on 2 cores; progress goes to stderr, the folder to stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

go=${GO:-go}
version=$("$go" list -m -f '{{.Version}}' github.com/moby/buildkit)
gover=$("$go" env GOVERSION)
# A change to go.sum or to this script (flags) makes a new folder.
sum=$(cat go.sum "$here/build.sh" | sha256sum | cut -c1-12)
cache=${STRATA_BUILDKIT_CACHE:-$(dirname "$("$go" env GOCACHE)")/strata-buildkit-bin}
dir=$cache/$version-$gover-$sum

if [ -x "$dir/buildkitd" ] && [ -x "$dir/buildctl" ]; then
	echo "$dir"
	exit 0
fi

echo "tools/buildkit: building buildkitd and buildctl $version into $dir (about 5 minutes cold)" >&2
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# CGO off: static binaries, no gcc needed; BuildKit builds its release binaries the same way.
CGO_ENABLED=0 "$go" build -trimpath -o "$tmp/" \
	-ldflags "-X github.com/moby/buildkit/version.Version=$version -X github.com/moby/buildkit/version.Package=github.com/moby/buildkit" \
	github.com/moby/buildkit/cmd/buildkitd \
	github.com/moby/buildkit/cmd/buildctl
# Publish atomically: a concurrent run either sees no folder or a complete one.
if mv -T "$tmp" "$dir" 2>/dev/null; then
	trap - EXIT
elif [ ! -x "$dir/buildkitd" ]; then
	echo "tools/buildkit: cannot publish $dir" >&2
	exit 1
fi
echo "$dir"
