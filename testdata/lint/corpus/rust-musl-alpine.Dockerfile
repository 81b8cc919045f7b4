FROM rust:1.78-alpine3.19 AS build
RUN apk add --no-cache musl-dev=1.2.4_git20230717-r4 pkgconf openssl-dev openssl-libs-static
WORKDIR /usr/src/ferry
COPY Cargo.toml Cargo.lock ./
# Build the dependencies against a placeholder main so they cache.
RUN mkdir src && echo 'fn main() {}' > src/main.rs \
    && cargo build --release \
    && rm -rf src target/release/deps/ferry*
COPY src ./src
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    cargo build --release --locked && strip target/release/ferry

FROM scratch
COPY --from=build /usr/src/ferry/target/release/ferry /ferry
ENTRYPOINT ["/ferry"]
