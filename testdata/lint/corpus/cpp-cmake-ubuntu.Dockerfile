FROM ubuntu:24.04 AS toolchain
ENV DEBIAN_FRONTEND=noninteractive
RUN rm -f /etc/apt/apt.conf.d/docker-clean; \
    echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update && apt-get install -y --no-install-recommends \
      cmake ninja-build g++ libboost-program-options-dev libfmt-dev pkg-config

FROM toolchain AS build
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY src/ src/
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/opt/geo \
    && cmake --build /build \
    && ctest --test-dir /build --output-on-failure \
    && cmake --install /build

FROM ubuntu:24.04
RUN apt-get update && apt-get install -y --no-install-recommends libboost-program-options1.83.0 libfmt9 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/geo /opt/geo
ENTRYPOINT ["/opt/geo/bin/geoindex"]
