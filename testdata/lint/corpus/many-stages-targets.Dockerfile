# syntax=docker/dockerfile:1
ARG GO_VERSION=1.22
ARG GOLANGCI_VERSION=v1.57.2

FROM golang:${GO_VERSION}-alpine AS base
RUN apk add --no-cache git make
WORKDIR /src
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

FROM base AS generate
RUN --mount=type=bind,target=.,rw \
    --mount=type=cache,target=/go/pkg/mod \
    go generate ./... && mkdir /out && cp -r ./gen /out/

FROM scratch AS generate-output
COPY --from=generate /out /

FROM golangci/golangci-lint:${GOLANGCI_VERSION}-alpine AS golangci

FROM base AS lint
COPY --from=golangci /usr/bin/golangci-lint /usr/bin/golangci-lint
RUN --mount=type=bind,target=. \
    --mount=type=cache,target=/root/.cache \
    golangci-lint run --timeout 5m

FROM base AS test
RUN --mount=type=bind,target=. \
    --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go test -race -coverprofile=/tmp/cover.out ./... && cp /tmp/cover.out /cover.out

FROM scratch AS test-coverage
COPY --from=test /cover.out /cover.out

FROM base AS build
ARG TARGETOS TARGETARCH
RUN --mount=type=bind,target=. \
    --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS=$TARGETOS GOARCH=$TARGETARCH go build -o /out/ledgerctl ./cmd/ledgerctl

FROM scratch AS binaries
COPY --from=build /out/ledgerctl /

FROM alpine:3.19 AS release
COPY --from=binaries /ledgerctl /usr/local/bin/ledgerctl
ENTRYPOINT ["ledgerctl"]
