# strata: build, test, benchmark. Integration tests need root, runc and docker-registry
# (see .ci/run); without them they skip, or fail when CI is set.

GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo unknown)

.PHONY: build test bench lint clean

build:
	$(GO) build -trimpath -ldflags '-X main.version=$(VERSION)' -o bin/strata ./cmd/strata

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 40m ./...

bench:
	bench/run.sh
	bench/lint.sh

# gofmt is given files, not directories, so that testdata/ (golden inputs) is left alone.
lint:
	@unformatted=$$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -print0 | xargs -0r gofmt -l); \
	if [ -n "$$unformatted" ]; then echo "gofmt -l: not formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

clean:
	rm -rf bin .bench
