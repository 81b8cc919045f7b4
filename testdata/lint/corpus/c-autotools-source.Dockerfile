FROM debian:bookworm AS build
ARG JQ_VERSION=1.7.1
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
       autoconf automake bison flex gcc libtool make \
    && rm -rf /var/lib/apt/lists/*
ADD --checksum=sha256:478c9ca129fd2e3443fe27314b455e211e0d8c60bc8ff7df703873deeee580c2 \
    https://github.com/jqlang/jq/releases/download/jq-${JQ_VERSION}/jq-${JQ_VERSION}.tar.gz /tmp/jq.tar.gz
WORKDIR /tmp/jq
RUN tar -xzf /tmp/jq.tar.gz --strip-components=1 \
    && ./configure --prefix=/usr/local --with-oniguruma=builtin --disable-docs \
    && make -j"$(nproc)" \
    && make check \
    && make install-strip DESTDIR=/staging

FROM debian:bookworm-slim
COPY --from=build /staging/usr/local/ /usr/local/
ENTRYPOINT ["jq"]
