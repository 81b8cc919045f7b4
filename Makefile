# strata: build, test, benchmark. Integration tests need root, runc and docker-registry
# (see .ci/run); without them they skip, or fail when CI is set.

# Go 1.26 lives in /usr/local/go on these machines, and tests run `go build` themselves.
export PATH := $(PATH):/usr/local/go/bin
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)

# FUZZTIME bounds each fuzz target's run in `make test` (and `make fuzz`).
FUZZTIME ?= 60s

.PHONY: build test fuzz bench lint clean conformance

build:
	$(GO) build -trimpath -ldflags '-X main.version=$(VERSION)' -o bin/strata ./cmd/strata

# Tests of hostile input record each case (internal/hostile) in a temporary file; the
# summary line printed after them fails the target if one wrote outside the build root or
# leaked a secret, or if none ran under CI.
test:
	$(GO) vet ./...
	log=$$(mktemp) && trap 'rm -f "$$log"' EXIT && \
	STRATA_HOSTILE_LOG="$$log" $(GO) test -race -count=1 -timeout 40m ./... && \
	$(GO) run ./internal/hostile/summary "$$log"
	$(MAKE) fuzz

# Every fuzz target in the repository (each func FuzzX in a _test.go file), one after another,
# for FUZZTIME each (issue 7 asks for at least 60s each in CI); a crasher is saved under the
# package's testdata/fuzz and must be committed with its fix. Minimization is bounded by a count,
# not a time: the tar targets take milliseconds per input and find new coverage every few
# seconds, so a time bound (5s) spent nearly all of FUZZTIME minimizing.
fuzz:
	@set -e; for f in $$(grep -rlE --include='*_test.go' --exclude-dir=testdata --exclude-dir=.git --exclude-dir=.bench '^func Fuzz[A-Za-z0-9_]*\(' . | sort); do \
		for t in $$(sed -nE 's/^func (Fuzz[A-Za-z0-9_]*)\(.*/\1/p' $$f); do \
			echo "fuzz: $$(dirname $$f) $$t for $(FUZZTIME)"; \
			$(GO) test $$(dirname $$f) -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 100x; \
		done; \
	done

# Builds every case under testdata/conformance with strata and with BuildKit and compares the
# images (conformance/README.md). Needs root, runc and docker-registry; buildkitd and buildctl
# are built once by tools/buildkit/build.sh (about 5 minutes cold) and cached.
# CONFORMANCE_FLAGS passes flags, e.g. CONFORMANCE_FLAGS='-run heredoc -v -keep'.
conformance: build
	bk=$$(tools/buildkit/build.sh) && $(GO) run ./conformance -buildkit "$$bk" $(CONFORMANCE_FLAGS)

# bench/run.sh: strata against buildah, BuildKit and dockerd (if installed) on the reference
# builds (BENCH_RUNS, BENCH_BIG_RUNS, BENCH_TOOLS, BENCH_SKIP ...: see the script); under 20
# minutes on 2 cores, BuildKit's first build included. bench/lint.sh: strata lint against other
# linters, BENCH_LINT_RUNS runs (default BENCH_RUNS, else 3).
bench:
	bench/run.sh
	BENCH_RUNS=$${BENCH_LINT_RUNS:-$${BENCH_RUNS:-3}} bench/lint.sh

# gofmt is given files, not directories, so that testdata/ (golden inputs) is left alone.
lint:
	@unformatted=$$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -print0 | xargs -0r gofmt -l); \
	if [ -n "$$unformatted" ]; then echo "gofmt -l: not formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin .bench
