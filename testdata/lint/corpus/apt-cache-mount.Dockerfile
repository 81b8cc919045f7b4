# syntax=docker/dockerfile:1
FROM debian:bookworm
RUN rm -f /etc/apt/apt.conf.d/docker-clean
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt,sharing=locked \
    apt-get update \
    && apt-get -y --no-install-recommends install \
        gcc \
        libc6-dev \
        make
RUN --mount=type=cache,target=/root/.cache/pip pip install --break-system-packages meson || true
RUN --mount=type=bind,from=busybox:1.36,source=/bin/busybox,target=/mnt/busybox \
    /mnt/busybox ls /
RUN --mount=type=cache,target=/cache,uid=1000,gid=1000,mode=0755 ls -ld /cache
USER nobody
