# syntax=docker/dockerfile:1
# A build written in a hurry: the casing wanders.
ARG GO_VERSION=1.22

FROM golang:${GO_VERSION} as build
WORKDIR /src
copy go.mod go.sum ./
# the module cache survives between builds
Run --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
run go build -o /out/app ./cmd/app

from alpine:3.20 AS final
COPY --from=build /out/app /usr/local/bin/app
onbuild RUN echo "built on $(date)"
expose 8080/TCP \
    # the admin port
    9090/Udp
ENTRYPOINT ["app"]
