#!/usr/bin/env bash
# scripts/setup.sh: first run of strata on a fresh Debian 12 machine, as root.
#
#   1. installs the Debian packages strata and its tests use (skipping those present)
#   2. checks for Go 1.26 and builds ./bin/strata
#   3. starts a throwaway registry on 127.0.0.1:5000 (stopped when the script exits)
#   4. builds a busybox base image FROM scratch with strata and pushes it as
#      127.0.0.1:5000/strata/busybox:latest
#   5. builds examples/hello (two stages, FROM that base) and pushes it as
#      127.0.0.1:5000/strata/hello:latest
#   6. prints the digest and `skopeo inspect` of the result
#
# Set KEEP_REGISTRY=1 to leave the registry running afterwards (its PID and directory are
# printed), for example to pull the images with skopeo or buildah.
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD
addr=127.0.0.1:5000

step() { printf '\n==> %s\n' "$*" >&2; }
die() {
	echo "setup: $*" >&2
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root: strata runs RUN steps with runc over overlayfs"
[ -r /etc/debian_version ] || die "this script expects Debian 12 (apt-get, Debian package names)"

step "Debian packages"
read -r -a packages <<<"$(grep -v '^#' "$(dirname "$0")/debian-packages" | tr '\n' ' ')"
missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends "${missing[@]}"
else
	echo "all present: ${packages[*]}" >&2
fi

step "Go"
if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
	PATH=/usr/local/go/bin:$PATH
fi
if ! command -v go >/dev/null; then
	cat >&2 <<'EOF'
setup: go not found. strata needs Go 1.26 or newer; Debian 12's golang package is too old.
Install the release from https://go.dev/dl/ (as the Go docs describe):
    tar -C /usr/local -xzf go1.26.*.linux-amd64.tar.gz
    export PATH=/usr/local/go/bin:$PATH
then run this script again.
EOF
	exit 1
fi
go version >&2
go_minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
[ "${go_minor:-0}" -ge 26 ] || die "$(go env GOVERSION) is too old: strata needs Go 1.26 or newer (https://go.dev/dl/)"

step "make build"
make build >&2
strata=$repo/bin/strata
"$strata" version >&2

work=$(mktemp -d "${TMPDIR:-/tmp}/strata-setup.XXXXXX")
registry_pid=
cleanup() {
	if [ -n "$registry_pid" ] && [ "${KEEP_REGISTRY:-}" != 1 ]; then
		kill "$registry_pid" 2>/dev/null || true
		wait "$registry_pid" 2>/dev/null || true
		rm -rf "$work"
	fi
}
trap cleanup EXIT

step "registry on $addr"
if (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null; then
	die "something already listens on $addr; stop it (or it is a registry from an earlier run with KEEP_REGISTRY=1)"
fi
cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/registry
  delete:
    enabled: true
http:
  addr: $addr
  secret: strata-setup
EOF
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null && break
	kill -0 "$registry_pid" 2>/dev/null || die "registry exited: $(tail -n 5 "$work/registry.log")"
	sleep 0.1
done
(exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null || die "registry did not start listening on $addr"
echo "docker-registry pid $registry_pid, storage $work/registry" >&2

base=$addr/strata/busybox:latest
step "base image $base (FROM scratch, Debian's static busybox)"
testdata/busybox/make-context.sh "$work/busybox"
"$strata" build -t "$base" --push "$work/busybox" >"$work/base.digest"
echo "base digest: $(cat "$work/base.digest")" >&2

hello=$addr/strata/hello:latest
step "examples/hello -> $hello"
"$strata" build --build-arg "BASE=$base" -t "$hello" --push examples/hello >"$work/hello.digest"
digest=$(cat "$work/hello.digest")

step "skopeo inspect --tls-verify=false docker://$hello"
skopeo inspect --tls-verify=false "docker://$hello"

step "done"
cat <<EOF
$hello
digest: $digest

Next: with the registry kept running (KEEP_REGISTRY=1 scripts/setup.sh), edit examples/hello and run
  bin/strata build --build-arg BASE=$base -t $hello --push examples/hello
or, with no registry at all, write the image to a file:
  bin/strata build --build-arg BASE=$base -o type=oci,dest=hello.tar examples/hello
EOF
if [ "${KEEP_REGISTRY:-}" = 1 ]; then
	echo "registry left running: pid $registry_pid, directory $work (kill $registry_pid; rm -rf $work)"
else
	echo "(the registry on $addr stops now; KEEP_REGISTRY=1 keeps it running)"
fi
