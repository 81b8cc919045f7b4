# syntax=docker/dockerfile:1-labs
FROM fedora:40
RUN --network=host dnf install -y --setopt=install_weak_deps=False make gcc && dnf clean all
COPY . /src
WORKDIR /src
# Tests run with no network at all and a scratch tmpfs.
RUN --network=none --mount=type=tmpfs,target=/tmp,size=256m make test
RUN --network=default make install PREFIX=/usr/local
# Needs the insecure entitlement on the builder.
RUN --security=insecure mount -t tmpfs none /mnt && echo mounted
RUN --security=sandbox true
CMD ["/usr/local/bin/pktgen"]
