#!/usr/bin/env bash
# bench/lint.sh (`make bench`, after bench/run.sh): `strata lint` against other Dockerfile
# linters on the same files, the corpus in testdata/lint/corpus, in one run. These machines
# are noisy; compare tools only within one run, never across runs.
#
# Two measures, each tool in turn and interleaved (strata, peer, peer, strata, ...):
#   process  one process per file, as a pre-commit hook runs it: for each file the median
#            over BENCH_RUNS runs, then the median over the files (ms per file)
#   batch    one process over the whole corpus: the median over BENCH_RUNS runs (files per
#            second, and ms per file)
# Tools:
#   strata            bin/strata lint --no-shellcheck (made by `make build`)
#   strata+sc         bin/strata lint, with ShellCheck on RUN bodies (only if shellcheck is
#                     installed; not comparable with the peers, which run no shell linter)
#   dockerfilelint    npm package, installed under .bench/lint-peers
#   dockerfile-utils  npm package, same place; its CLI takes one file, so its batch is one
#                     node process calling the library's validate() on every file
#   hadolint          if on PATH (it is not packaged in Debian)
# A run fails when the tool exits above its highest success status (strata, dockerfile-utils,
# hadolint: 1, for findings; dockerfilelint exits with the number of findings: 125); failed
# runs are counted in the table and the JSON, and their times still count.
# Prints a table with the ratios strata/peer and the issue's targets (under 10 ms per file
# as a process, under 1 ms per file in batch), and writes bench/lint-results.json.
#
# Environment:
#   BENCH_RUNS=N            runs per measure and tool (default 5)
#   BENCH_LINT_TOOLS="..."  a subset of: strata strata+sc dockerfilelint dockerfile-utils hadolint
#   BENCH_STRATA=PATH       the strata binary (default bin/strata, built by `make build`)
#   BENCH_LINT_RESULTS=FILE where the JSON goes (default bench/lint-results.json)
set -euo pipefail

cd "$(dirname "$0")/.."
repo=$PWD
export LC_ALL=C

runs=${BENCH_RUNS:-5}
tools=${BENCH_LINT_TOOLS:-strata strata+sc dockerfilelint dockerfile-utils hadolint}
results=${BENCH_LINT_RESULTS:-$repo/bench/lint-results.json}
strata=${BENCH_STRATA:-$repo/bin/strata}
peers=$repo/.bench/lint-peers

log() { echo "bench/lint: $*" >&2; }
die() {
	log "$*"
	exit 1
}

case $runs in '' | *[!0-9]* | 0) die "BENCH_RUNS must be a positive integer, not '$runs'" ;; esac
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (EPOCHREALTIME)"
for tool in $tools; do
	case $tool in
	strata | strata+sc | dockerfilelint | dockerfile-utils | hadolint) ;;
	*) die "unknown tool '$tool' in BENCH_LINT_TOOLS" ;;
	esac
done
wants() { [[ " $tools " == *" $1 "* ]]; }

mapfile -t files < <(find testdata/lint/corpus -type f | LC_ALL=C sort)
nfiles=${#files[@]}
[ "$nfiles" -gt 0 ] || die "no files in testdata/lint/corpus"

# The tools that run: wanted and installed.
active=()
if wants strata || wants strata+sc; then
	if [ -z "${BENCH_STRATA:-}" ]; then
		command -v go >/dev/null || PATH=/usr/local/go/bin:$PATH
		log "make build"
		make build >&2
	fi
	"$strata" lint --help >/dev/null 2>&1 || die "$strata has no working 'lint' command"
	wants strata && active+=(strata)
	if wants strata+sc; then
		if command -v shellcheck >/dev/null; then
			active+=(strata+sc)
		else
			log "shellcheck is not installed: no strata+sc"
		fi
	fi
fi
if wants dockerfilelint || wants dockerfile-utils; then
	if ! command -v npm >/dev/null; then
		log "installing npm"
		DEBIAN_FRONTEND=noninteractive apt-get update >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm >&2
	fi
	if [ ! -x "$peers/node_modules/.bin/dockerfilelint" ] || [ ! -x "$peers/node_modules/.bin/dockerfile-utils" ]; then
		log "npm install dockerfilelint dockerfile-utils into $peers"
		mkdir -p "$peers"
		npm install --prefix "$peers" --no-audit --no-fund dockerfilelint dockerfile-utils >&2
	fi
	wants dockerfilelint && active+=(dockerfilelint)
	wants dockerfile-utils && active+=(dockerfile-utils)
fi
if wants hadolint; then
	if command -v hadolint >/dev/null; then
		active+=(hadolint)
	else
		log "hadolint is not installed (not packaged in Debian): skipped"
	fi
fi
[ ${#active[@]} -gt 0 ] || die "no tool to run"

# run_tool TOOL process|batch FILE...: one run of a tool on the files, findings discarded.
run_tool() {
	local tool=$1 mode=$2
	shift 2
	case $tool in
	strata) "$strata" lint --no-shellcheck "$@" ;;
	strata+sc) "$strata" lint "$@" ;;
	dockerfilelint) "$peers/node_modules/.bin/dockerfilelint" "$@" ;;
	dockerfile-utils)
		if [ "$mode" = batch ]; then
			# The CLI takes one file: the batch is the library's validate() in one process.
			node -e '
				const fs = require("fs");
				const utils = require(process.argv[1]);
				for (const f of process.argv.slice(2)) utils.validate(fs.readFileSync(f, "utf8"));
			' "$peers/node_modules/dockerfile-utils" "$@"
		else
			"$peers/node_modules/.bin/dockerfile-utils" lint "$1"
		fi
		;;
	hadolint) hadolint --no-fail "$@" ;;
	esac
}

version_of() {
	case $1 in
	strata | strata+sc) "$strata" version 2>/dev/null | head -n 1 || echo unknown ;;
	dockerfilelint | dockerfile-utils) node -p "require('$peers/node_modules/$1/package.json').version" ;;
	hadolint) hadolint --version | head -n 1 ;;
	esac
}

work=$(mktemp -d "${TMPDIR:-/tmp}/strata-lint-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# timed TOOL process|batch SAMPLES FILE...: runs the tool once, appends "microseconds status"
# to SAMPLES. EPOCHREALTIME costs no fork, so the time is the tool's process and nothing else.
timed() {
	local tool=$1 mode=$2 samples=$3
	shift 3
	local start end status=0 ok=1
	[ "$tool" = dockerfilelint ] && ok=125
	start=$EPOCHREALTIME
	run_tool "$tool" "$mode" "$@" >/dev/null 2>"$work/stderr" || status=$?
	end=$EPOCHREALTIME
	if [ "$status" -gt "$ok" ]; then
		echo "$tool $mode $* exited $status: $(head -c 300 "$work/stderr")" >>"$work/failures.$tool"
	fi
	echo "$((${end//[.,]/} - ${start//[.,]/})) $status" >>"$samples"
}

# A warm-up pass: page cache, node's compile cache, the binary's pages.
for tool in "${active[@]}"; do
	timed "$tool" process "$work/warmup" "${files[0]}"
done

for run in $(seq "$runs"); do
	for i in "${!files[@]}"; do
		for tool in "${active[@]}"; do
			timed "$tool" process "$work/process.$tool.$i" "${files[$i]}"
		done
	done
	for tool in "${active[@]}"; do
		timed "$tool" batch "$work/batch.$tool" "${files[@]}"
	done
	log "run $run of $runs done"
done

# median: the median of the numbers on stdin, one a line.
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# join SEP ITEMS...
join() {
	local sep=$1 out=
	shift
	for item in "$@"; do out+=${out:+$sep}$item; done
	printf '%s' "$out"
}

declare -A process_ms batch_ms batch_fps failed
tools_json=()
for tool in "${active[@]}"; do
	per_file=()
	for i in "${!files[@]}"; do
		per_file+=("$(awk '{ print $1 / 1000 }' "$work/process.$tool.$i" | median)")
	done
	process_ms[$tool]=$(printf '%s\n' "${per_file[@]}" | median)
	batch_us=$(awk '{ print $1 }' "$work/batch.$tool" | median)
	batch_ms[$tool]=$(awk -v us="$batch_us" -v n="$nfiles" 'BEGIN { printf "%.3f", us / 1000 / n }')
	batch_fps[$tool]=$(awk -v us="$batch_us" -v n="$nfiles" 'BEGIN { printf "%.0f", n / (us / 1e6) }')
	failed[$tool]=0
	[ -f "$work/failures.$tool" ] && failed[$tool]=$(wc -l <"$work/failures.$tool")
	batch_runs=$(awk '{ printf "%s%.3f", (NR > 1 ? ", " : ""), $1 / 1000 }' "$work/batch.$tool")
	tools_json+=("$(printf '    "%s": {"version": "%s", "process_ms_per_file_median": %s, "process_ms_per_file": {%s}, "batch_ms_runs": [%s], "batch_ms_per_file": %s, "batch_files_per_second": %s, "failed_runs": %s}' \
		"$tool" "$(version_of "$tool" | sed 's/["\\]/\\&/g')" "${process_ms[$tool]}" \
		"$(for i in "${!files[@]}"; do printf '%s"%s": %s' "$([ "$i" -gt 0 ] && echo ', ')" "${files[$i]#testdata/lint/corpus/}" "${per_file[$i]}"; done)" \
		"$batch_runs" "${batch_ms[$tool]}" "${batch_fps[$tool]}" "${failed[$tool]}")")
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }'; }

echo "strata lint on $nfiles files of testdata/lint/corpus, $runs runs"
row_format='%-26s  %15s  %13s  %13s  %22s  %20s\n'
# shellcheck disable=SC2059 # the format is the constant above
printf "$row_format" tool "process ms/file" "batch ms/file" "batch files/s" "strata/tool (process)" "strata/tool (batch)"
ratios_json=()
for tool in "${active[@]}"; do
	rp=- rb=-
	if [ -n "${process_ms[strata]:-}" ] && [ "$tool" != strata ]; then
		rp=$(ratio "${process_ms[strata]}" "${process_ms[$tool]}")
		rb=$(ratio "${batch_ms[strata]}" "${batch_ms[$tool]}")
		ratios_json+=("$(printf '"%s": {"process": %s, "batch": %s}' "$tool" "$rp" "$rb")")
	fi
	label=$tool
	[ "${failed[$tool]}" -gt 0 ] && label="$tool (${failed[$tool]} failed)"
	# shellcheck disable=SC2059 # the format is the constant above
	printf "$row_format" "$label" "${process_ms[$tool]}" "${batch_ms[$tool]}" "${batch_fps[$tool]}" "$rp" "$rb"
done
if [ -n "${process_ms[strata]:-}" ]; then
	met() { awk -v v="$1" -v t="$2" 'BEGIN { print (v < t) ? "met" : "MISSED" }'; }
	echo "target: under 10 ms per file as a process: ${process_ms[strata]} ms, $(met "${process_ms[strata]}" 10)"
	echo "target: under 1 ms per file in batch: ${batch_ms[strata]} ms, $(met "${batch_ms[strata]}" 1)"
fi
for tool in "${active[@]}"; do
	if [ -f "$work/failures.$tool" ]; then
		log "$tool failures (first 5):"
		head -n 5 "$work/failures.$tool" >&2
	fi
done

{
	echo "{"
	printf '  "date": "%s",\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf '  "host": {"kernel": "%s", "cpus": %s},\n' "$(uname -r)" "$(nproc)"
	printf '  "runs": %s,\n' "$runs"
	printf '  "files": %s,\n' "$nfiles"
	echo '  "tools": {'
	join $',\n' "${tools_json[@]}"
	echo
	echo '  },'
	printf '  "ratios_strata_to": {%s}\n' "$(join ', ' "${ratios_json[@]}")"
	echo "}"
} >"$results"
log "wrote $results"
