#!/usr/bin/env bash
# bench/run.sh (`make bench`): strata against buildah, BuildKit and dockerd (when present)
# on the same Dockerfiles, base images and local registry, in one run. These machines are
# noisy; compare tools only within one run, never across runs.
#
# This script installs the Debian packages that are missing, builds strata (make build),
# makes the work folder, and runs the driver, bench/harness (Go): it builds BuildKit's
# buildkitd and buildctl (tools/buildkit/build.sh: about 5 minutes the first time, cached
# after) while it makes the reference inputs, times every scenario with every tool,
# interleaved, prints the table and writes the JSON. The scenarios, the peers' settings and how each RSS column is
# measured are described in bench/harness/main.go and bench/harness/scenarios.go.
#
# Environment:
#   BENCH_TOOLS="..."       a subset of: strata buildah buildkit docker (default: every one
#                           available; docker only if dockerd is installed, never installed here)
#   BENCH_RUNS=N            runs of the small and multistage scenarios (default 5)
#   BENCH_BIG_RUNS=N        runs of the big10k and apt scenarios (default 2: 2-3 minutes a run)
#   BENCH_SKIP="..."        benchmarks to leave out: small multistage big10k apt
#   BENCH_LIMITS=0          skip the physical limits (sha256, gzip, zstd, disk)
#   BENCH_PROFILE=1         CPU profiles of strata's timed builds, summaries in bench/profiles/
#   BENCH_STRATA_FLAGS=...  extra flags for every timed `strata build` (word-split)
#   BENCH_BUILDKIT=DIR      use the buildkitd and buildctl in DIR instead of building them
#   BENCH_TMP=DIR           where the work folder goes (default /var/tmp; must allow overlayfs)
#   BENCH_RESULTS=FILE      where the JSON goes (default bench/results.json)
#   BENCH_KEEP=1            keep the work folder (logs, caches, storage) after the run
# The Debian base of the apt benchmark (debootstrap, about 75 s) is kept in
# ~/.cache/strata-bench/ across runs.
set -euo pipefail

cd "$(dirname "$0")/.."

log() { echo "bench: $*" >&2; }
die() {
	log "$*"
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "must run as root (runc, overlayfs, buildkitd)"
tools=${BENCH_TOOLS:-strata buildah buildkit docker}
want() { case " $tools " in *" $1 "*) return 0 ;; esac; return 1; }
skip() { case " ${BENCH_SKIP:-} " in *" $1 "*) return 0 ;; esac; return 1; }

# Debian packages are installed when missing; Go is never downloaded, docker.io never installed.
need=()
[ -x /usr/bin/time ] || need+=(time)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v runc >/dev/null || need+=(runc)
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then need+=(busybox-static); fi
if want buildah; then command -v buildah >/dev/null || need+=(buildah); fi
if ! skip apt; then command -v debootstrap >/dev/null || need+=(debootstrap); fi
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y --no-install-recommends "${need[@]}" >&2
fi

command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH
# strata builds the base images, whichever tools are benchmarked. The harness runs
# tools/buildkit/build.sh itself, beside making the inputs.
log "make build"
make build >&2

work=$(mktemp -d "${BENCH_TMP:-/var/tmp}/strata-bench.XXXXXX")
cleanup() {
	local status=$?
	# The harness stops its daemons; mounts a killed tool left behind go here, deepest first.
	awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done
	if [ "${BENCH_KEEP:-}" = 1 ] || [ "$status" -ne 0 ]; then
		log "work folder kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A copy of strata: a `make build` elsewhere during the run must not change the binary timed.
cp bin/strata "$work/strata"
go build -o "$work/harness" ./bench/harness
BENCH_WORK=$work BENCH_STRATA=$work/strata BENCH_TOOLS=${BENCH_TOOLS:-} "$work/harness"
