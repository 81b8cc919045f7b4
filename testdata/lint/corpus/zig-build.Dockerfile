FROM alpine:3.20 AS zig
ARG ZIG_VERSION=0.12.0
RUN apk add --no-cache curl xz \
 && curl -fsSL "https://ziglang.org/download/${ZIG_VERSION}/zig-linux-$(uname -m)-${ZIG_VERSION}.tar.xz" \
    | tar -xJ -C /opt \
 && ln -s /opt/zig-linux-*/zig /usr/local/bin/zig

FROM zig AS build
WORKDIR /src
COPY build.zig build.zig.zon ./
COPY src ./src
RUN zig build -Doptimize=ReleaseSmall -Dtarget=x86_64-linux-musl --prefix /out

FROM scratch
COPY --from=build /out/bin/kvstore /kvstore
ENTRYPOINT ["/kvstore"]
