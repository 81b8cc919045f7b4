FROM haskell:9.6-slim AS build
WORKDIR /opt/shortener
RUN cabal update
COPY shortener.cabal cabal.project ./
RUN cabal build --only-dependencies -j4
COPY . .
RUN cabal install --installdir=/opt/bin --install-method=copy exe:shortener

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libgmp10 netbase && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/bin/shortener /usr/local/bin/
EXPOSE 8081/tcp
CMD ["shortener"]
