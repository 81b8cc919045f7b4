# syntax=docker/dockerfile:1.6
FROM alpine:3.19 AS fetch
RUN wget -q -O /tmp/tini https://github.com/krallin/tini/releases/download/v0.19.0/tini-static

FROM debian:bookworm-slim
COPY --link --from=fetch --chmod=0755 /tmp/tini /sbin/tini
COPY --link --chmod=u=rwx,g=rx,o=rx scripts/entry.sh /usr/local/bin/entry
COPY --link --chown=1000:1000 --chmod=go-w config/ /etc/app/
COPY --chmod=a+x tools/healthcheck /usr/local/bin/
ADD --link --chmod=644 https://example.com/ca/internal.pem /usr/local/share/ca-certificates/internal.crt
RUN update-ca-certificates
ENTRYPOINT ["/sbin/tini", "--", "/usr/local/bin/entry"]
