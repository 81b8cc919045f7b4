FROM alpine:3.20
ARG LUAROCKS_VERSION=3.11.0
RUN set -eux; \
    apk add --no-cache lua5.4 lua5.4-libs ca-certificates; \
    apk add --no-cache --virtual .build-deps \
        build-base \
        curl \
        lua5.4-dev \
        unzip \
    ; \
    curl -fsSL -o /tmp/luarocks.tar.gz "https://luarocks.org/releases/luarocks-${LUAROCKS_VERSION}.tar.gz"; \
    tar -C /tmp -xzf /tmp/luarocks.tar.gz; \
    cd /tmp/luarocks-${LUAROCKS_VERSION}; \
    ./configure --with-lua-include=/usr/include/lua5.4; \
    make && make install; \
    luarocks install lua-cjson; \
    cd /; \
    rm -rf /tmp/luarocks*; \
    apk del --no-network .build-deps
CMD ["lua5.4"]
