FROM golang:1.23 AS build
WORKDIR /app
# Nothing is copied into the layer: the source is bind-mounted read-only.
RUN --mount=type=bind,target=.,readonly \
    --mount=type=cache,target=/root/.cache/go-build,id=gobuild \
    --mount=type=cache,target=/go/pkg/mod,sharing=locked \
    go build -o /usr/local/bin/worker ./cmd/worker

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/local/bin/worker /usr/local/bin/worker
RUN useradd --system --no-log-init --uid 10001 worker
USER worker
ENTRYPOINT ["worker"]
