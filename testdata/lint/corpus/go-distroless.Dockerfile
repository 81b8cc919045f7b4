# syntax=docker/dockerfile:1

# Build a small Go API server and ship it on distroless as a non-root user.
ARG GO_VERSION=1.22

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src

# Module downloads go first so the layer survives source edits.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download -x

COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath \
        -ldflags "-s -w -X main.version=${VERSION}" \
        -o /out/apiserver ./cmd/apiserver

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/apiserver /usr/local/bin/apiserver
USER nonroot:nonroot
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/apiserver"]
CMD ["--listen", ":8080"]
