#!/usr/bin/env bash
# bench/run.sh (`make bench`): strata against buildah on the same Dockerfiles, the same base
# image and the same local registry, in one run. These machines are noisy; compare tools
# only within one run, never across runs.
#
# For each benchmark (testdata/multistage, bench/small) and each of N runs, interleaved
# strata, buildah, strata, buildah ...:
#   cold     empty cache (strata: a fresh --cache-dir) or storage (buildah: fresh --root and
#            --runroot); the base image is pulled from the local registry inside the timed
#            build, for both tools
#   rebuild  the same build again, nothing changed, on what the cold run left behind
#   cachefrom  a cold runner with a registry cache: empty cache or storage again, but with
#            --cache-from a cache in the local registry that the same tool exported (untimed)
#            before the runs (strata: --cache-to type=registry,mode=max; buildah: --cache-to)
# Prints medians (min-max), the ratio strata/buildah and the median peak RSS from
# /usr/bin/time %M (the largest single process of the tree, not a sum), and writes
# bench/results.json with every sample.
#
# A BuildKit peer (buildkitd + buildctl built from source, see NOTES) will be added by a
# later issue.
#
# Environment:
#   BENCH_RUNS=N            runs per scenario and tool (default 5)
#   BENCH_TOOLS="strata buildah"  a subset runs one side; without strata, buildah builds the base
#   BENCH_STRATA_FLAGS=...  extra flags for every timed `strata build` (word-split)
#   BENCH_TMP=DIR           where the work directory goes (default /var/tmp; must allow overlayfs)
#   BENCH_RESULTS=FILE      where the JSON goes (default bench/results.json)
#   BENCH_KEEP=1            keep the work directory (logs, caches, storage) after the run
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD

runs=${BENCH_RUNS:-5}
tools=${BENCH_TOOLS:-strata buildah}
results=${BENCH_RESULTS:-$repo/bench/results.json}
read -r -a strata_flags <<<"${BENCH_STRATA_FLAGS:-}"
benches=(multistage:testdata/multistage small:bench/small)

log() { echo "bench: $*" >&2; }
die() {
	log "$*"
	exit 1
}

case $runs in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive integer, not '$runs'" ;; esac
use_strata=false
use_buildah=false
for tool in $tools; do
	case $tool in
	strata) use_strata=true ;;
	buildah) use_buildah=true ;;
	*) die "unknown tool '$tool' in BENCH_TOOLS (strata, buildah)" ;;
	esac
done
[ "$(id -u)" -eq 0 ] || die "must run as root (runc, overlayfs)"

# Tools. Debian packages are installed when missing; Go is never downloaded.
need=()
[ -x /usr/bin/time ] || need+=(time)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v runc >/dev/null || need+=(runc)
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then need+=(busybox-static); fi
if $use_buildah; then command -v buildah >/dev/null || need+=(buildah); fi
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update >&2
	apt-get install -y --no-install-recommends "${need[@]}" >&2
fi

strata=$repo/bin/strata
if $use_strata; then
	command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH
	log "make build"
	make build >&2
fi

work=$(mktemp -d "${BENCH_TMP:-/var/tmp}/strata-bench.XXXXXX")
registry_pid=
cleanup() {
	local status=$?
	if [ -n "$registry_pid" ]; then
		kill "$registry_pid" 2>/dev/null || true
		wait "$registry_pid" 2>/dev/null || true
	fi
	# Overlay mounts a tool left behind (a crash, buildah's storage): deepest first.
	awk -v w="$work/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done
	if [ "${BENCH_KEEP:-}" = 1 ] || [ "$status" -ne 0 ]; then
		log "work directory kept: $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
mkdir -p "$work/logs" "$work/samples"

# A throwaway registry on a free loopback port: port 0, then read the port from its log.
mkdir -p "$work/registry"
cat >"$work/registry/config.yml" <<EOF
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:0
  secret: strata-bench
EOF
docker-registry serve "$work/registry/config.yml" >"$work/logs/registry.log" 2>&1 &
registry_pid=$!
registry=
for _ in $(seq 100); do
	registry=$(sed -n 's/.*msg="listening on \(127\.0\.0\.1:[0-9]*\)".*/\1/p' "$work/logs/registry.log")
	[ -n "$registry" ] && break
	kill -0 "$registry_pid" 2>/dev/null || break
	sleep 0.1
done
[ -n "$registry" ] || die "registry did not start: $(tail -n 5 "$work/logs/registry.log")"
log "registry on $registry"

# buildah reads the plain-HTTP setting from registries.conf.
cat >"$work/registries.conf" <<EOF
unqualified-search-registries = []

[[registry]]
location = "$registry"
insecure = true
EOF
export CONTAINERS_REGISTRIES_CONF=$work/registries.conf

# buildah_in STORAGE ARGS...: buildah on its own storage under STORAGE. (The timed builds
# spell this out: /usr/bin/time cannot run a shell function.)
buildah_in() {
	local storage=$1
	shift
	buildah --root "$storage/root" --runroot "$storage/runroot" --storage-driver overlay "$@"
}

drop_buildah_storage() { # STORAGE
	buildah_in "$1" rmi --all --force >/dev/null 2>&1 || true
	awk -v w="$1/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$1"
}

# The base image: busybox from Debian's busybox-static, built FROM scratch and pushed.
base=$registry/strata/busybox:latest
testdata/busybox/make-context.sh "$work/busybox"
if $use_strata; then
	log "building the base image with strata"
	"$strata" build --progress=plain --cache-dir "$work/base-cache" -t "$base" --push \
		"$work/busybox" >"$work/logs/base.out" 2>"$work/logs/base.log" ||
		die "strata could not build the base image: $(tail -n 20 "$work/logs/base.log")"
else
	log "building the base image with buildah (strata is not in BENCH_TOOLS)"
	{
		buildah_in "$work/base-storage" build --runtime /usr/sbin/runc --isolation oci \
			-t "$base" "$work/busybox" &&
			buildah_in "$work/base-storage" push "$base"
	} >"$work/logs/base.log" 2>&1 ||
		die "buildah could not build the base image: $(tail -n 20 "$work/logs/base.log")"
	drop_buildah_storage "$work/base-storage"
fi
log "base image $base"

# measure SAMPLES LOG CMD...: runs CMD, appends "seconds peak-rss-KiB" to SAMPLES.
measure() {
	local samples=$1 logfile=$2
	shift 2
	local start end rss
	start=$(date +%s%N)
	if ! /usr/bin/time -f %M -o "$work/rss" "$@" >"$logfile.out" 2>"$logfile"; then
		log "failed: $*"
		tail -n 30 "$logfile" >&2
		exit 1
	fi
	end=$(date +%s%N)
	rss=$(tail -n 1 "$work/rss")
	awk -v ns=$((end - start)) -v rss="$rss" 'BEGIN { printf "%.3f %d\n", ns / 1e9, rss }' >>"$samples"
}

# The registry caches the cachefrom runs read, exported once per benchmark and tool.
for entry in "${benches[@]}"; do
	name=${entry%%:*}
	dir=$repo/${entry#*:}
	if $use_strata; then
		log "$name: exporting strata's registry cache"
		"$strata" build --progress=plain --cache-dir "$work/prime-cache/$name" "${strata_flags[@]}" \
			--cache-to "type=registry,ref=$registry/bench-cache/$name:strata,mode=max" \
			--build-arg "BASE=$base" -f "$dir/Dockerfile" "$dir" >"$work/logs/$name.prime.strata.out" 2>"$work/logs/$name.prime.strata" ||
			die "priming strata's cache failed: $(tail -n 20 "$work/logs/$name.prime.strata")"
		rm -rf "$work/prime-cache/$name"
	fi
	if $use_buildah; then
		log "$name: exporting buildah's registry cache"
		buildah_in "$work/prime-buildah/$name" build --layers --format docker --runtime /usr/sbin/runc --isolation oci \
			--cache-to "$registry/bench-cache/$name-buildah" \
			--build-arg "BASE=$base" -f "$dir/Dockerfile" -t "localhost/bench/$name:latest" "$dir" >"$work/logs/$name.prime.buildah" 2>&1 ||
			die "priming buildah's cache failed: $(tail -n 20 "$work/logs/$name.prime.buildah")"
		drop_buildah_storage "$work/prime-buildah/$name"
	fi
done

for entry in "${benches[@]}"; do
	name=${entry%%:*}
	dir=$repo/${entry#*:}
	for run in $(seq "$runs"); do
		if $use_strata; then
			cache=$work/strata-cache/$name-$run
			mkdir -p "$cache"
			for kind in cold rebuild; do
				measure "$work/samples/$name.$kind.strata" "$work/logs/$name.$kind.strata.$run" \
					"$strata" build --progress=plain --cache-dir "$cache" "${strata_flags[@]}" \
					--build-arg "BASE=$base" -f "$dir/Dockerfile" "$dir"
			done
			rm -rf "$cache"
			mkdir -p "$cache"
			measure "$work/samples/$name.cachefrom.strata" "$work/logs/$name.cachefrom.strata.$run" \
				"$strata" build --progress=plain --cache-dir "$cache" "${strata_flags[@]}" \
				--cache-from "type=registry,ref=$registry/bench-cache/$name:strata" \
				--build-arg "BASE=$base" -f "$dir/Dockerfile" "$dir"
			rm -rf "$cache"
		fi
		if $use_buildah; then
			storage=$work/buildah/$name-$run
			# --format docker: buildah's default OCI format drops HEALTHCHECK; strata keeps it.
			for kind in cold rebuild; do
				measure "$work/samples/$name.$kind.buildah" "$work/logs/$name.$kind.buildah.$run" \
					buildah --root "$storage/root" --runroot "$storage/runroot" --storage-driver overlay \
					build --layers --format docker --runtime /usr/sbin/runc --isolation oci \
					--build-arg "BASE=$base" -f "$dir/Dockerfile" -t "localhost/bench/$name:latest" "$dir"
			done
			drop_buildah_storage "$storage"
			measure "$work/samples/$name.cachefrom.buildah" "$work/logs/$name.cachefrom.buildah.$run" \
				buildah --root "$storage/root" --runroot "$storage/runroot" --storage-driver overlay \
				build --layers --format docker --runtime /usr/sbin/runc --isolation oci \
				--cache-from "$registry/bench-cache/$name-buildah" \
				--build-arg "BASE=$base" -f "$dir/Dockerfile" -t "localhost/bench/$name:latest" "$dir"
			drop_buildah_storage "$storage"
		fi
		log "$name: run $run of $runs done"
	done
done

# stats FILE COLUMN: "median min max" of one column of a samples file.
stats() {
	awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '
		{ v[NR] = $1 }
		END {
			m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.3f %.3f %.3f\n", m, v[1], v[NR]
		}'
}

# json_array FILE COLUMN: one column of a samples file as a JSON array.
json_array() {
	awk -v c="$2" '{ printf "%s%s", (NR > 1 ? ", " : ""), $c } END { printf "\n" }' "$1" |
		sed 's/^/[/; s/$/]/'
}

version_of() {
	case $1 in
	strata) "$strata" version 2>/dev/null | head -n 1 || echo unknown ;;
	buildah) buildah --version | head -n 1 ;;
	esac
}

# join SEP ITEMS...
join() {
	local sep=$1 out=
	shift
	for item in "$@"; do out+=${out:+$sep}$item; done
	printf '%s' "$out"
}

row_format='%-20s  %-24s  %-24s  %14s  %10s  %11s\n'
# shellcheck disable=SC2059 # the format is the constant above
printf "$row_format" scenario "strata s (min-max)" "buildah s (min-max)" "strata/buildah" "strata MiB" "buildah MiB"
scenarios_json=()
for entry in "${benches[@]}"; do
	name=${entry%%:*}
	for kind in cold rebuild cachefrom; do
		cells=()
		rss_cells=()
		medians=()
		tools_json=()
		for tool in strata buildah; do
			samples=$work/samples/$name.$kind.$tool
			if [ ! -s "$samples" ]; then
				cells+=(-)
				rss_cells+=(-)
				continue
			fi
			read -r med min max < <(stats "$samples" 1)
			read -r rss_med _ _ < <(stats "$samples" 2)
			rss_med=${rss_med%.*}
			medians+=("$med")
			cells+=("$(printf '%.2f (%.2f-%.2f)' "$med" "$min" "$max")")
			rss_cells+=("$(awk -v k="$rss_med" 'BEGIN { printf "%.0f", k / 1024 }')")
			tools_json+=("$(printf '"%s": {"seconds": %s, "median_seconds": %s, "min_seconds": %s, "max_seconds": %s, "peak_rss_kib": %s, "median_peak_rss_kib": %s}' \
				"$tool" "$(json_array "$samples" 1)" "$med" "$min" "$max" "$(json_array "$samples" 2)" "$rss_med")")
		done
		ratio=-
		ratio_json=null
		if [ ${#medians[@]} -eq 2 ]; then
			ratio=$(awk -v a="${medians[0]}" -v b="${medians[1]}" 'BEGIN { printf "%.2f", a / b }')
			ratio_json=$ratio
		fi
		# shellcheck disable=SC2059 # the format is the constant above
		printf "$row_format" "$name $kind" "${cells[0]}" "${cells[1]}" "$ratio" "${rss_cells[0]}" "${rss_cells[1]}"
		scenarios_json+=("$(printf '    {"name": "%s %s", "dockerfile": "%s", "kind": "%s", %s, "ratio_strata_buildah": %s}' \
			"$name" "$kind" "${entry#*:}/Dockerfile" "$kind" "$(join ', ' "${tools_json[@]}")" "$ratio_json")")
	done
done

# What a registry cache buys a cold runner, per tool: cachefrom / cold, from the medians.
for entry in "${benches[@]}"; do
	name=${entry%%:*}
	line="$name: cold runner with a registry cache / without:"
	for tool in strata buildah; do
		with=$work/samples/$name.cachefrom.$tool without=$work/samples/$name.cold.$tool
		[ -s "$with" ] && [ -s "$without" ] || continue
		read -r a _ _ < <(stats "$with" 1)
		read -r b _ _ < <(stats "$without" 1)
		line+=" $tool $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
	done
	echo "$line"
done

tool_versions=()
for tool in $tools; do
	tool_versions+=("$(printf '"%s": "%s"' "$tool" "$(version_of "$tool" | sed 's/["\\]/\\&/g')")")
done
{
	echo "{"
	printf '  "date": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf '  "host": {"kernel": "%s", "cpus": %s},\n' "$(uname -r)" "$(nproc)"
	printf '  "runs": %s,\n' "$runs"
	printf '  "base_image": "%s",\n' "$base"
	printf '  "tools": {%s},\n' "$(join ', ' "${tool_versions[@]}")"
	echo '  "scenarios": ['
	join $',\n' "${scenarios_json[@]}"
	echo
	echo "  ]"
	echo "}"
} >"$results"
log "wrote $results"
