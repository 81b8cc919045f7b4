FROM registry.fedoraproject.org/fedora:40 AS build
RUN dnf install -y gcc-c++ meson ninja-build zlib-devel && dnf clean all
WORKDIR /src
COPY . .
RUN meson setup builddir --buildtype=release --prefix=/usr \
    && meson compile -C builddir \
    && DESTDIR=/install meson install -C builddir

FROM registry.fedoraproject.org/fedora-minimal:40
RUN microdnf install -y zlib && microdnf clean all
COPY --from=build /install/usr /usr
CMD ["/usr/bin/squeeze", "--help"]
