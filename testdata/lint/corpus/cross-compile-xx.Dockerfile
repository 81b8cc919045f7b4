# syntax=docker/dockerfile:1
FROM --platform=$BUILDPLATFORM tonistiigi/xx:1.4.0 AS xx

FROM --platform=$BUILDPLATFORM rust:1.78-bookworm AS build
COPY --from=xx / /
ARG TARGETPLATFORM
RUN apt-get update && xx-apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
RUN rustup target add "$(xx-cargo --print-target-triple)"
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cargo/registry,id=cargo-$TARGETPLATFORM \
    --mount=type=cache,target=/src/target,id=target-$TARGETPLATFORM \
    xx-cargo build --release --target-dir /src/target \
    && xx-verify ./target/$(xx-cargo --print-target-triple)/release/gateway \
    && cp ./target/$(xx-cargo --print-target-triple)/release/gateway /gateway

FROM --platform=$TARGETPLATFORM debian:bookworm-slim
COPY --from=build /gateway /usr/local/bin/gateway
CMD ["gateway"]
