# syntax=docker/dockerfile:1
FROM alpine:3.20 AS sources
# A pinned release tarball: the build fails if the bytes change.
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d \
    https://example.org/releases/fixture-2.1.0.tar.gz /sources/
# A git repository at a tag, with its .git directory kept for `git describe`.
ADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.13.2 /sources/buildkit
ADD git@github.com:example/protocols.git#main:proto /sources/proto
ADD https://github.com/example/fonts.git /sources/fonts

FROM alpine:3.20
COPY --from=sources /sources /opt/sources
RUN ls -R /opt/sources | head -n 50
