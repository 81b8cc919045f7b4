ARG VARIANT
ARG TAG=${UNSET_BASE:-latest}
FROM alpine:${VARIANT} AS base
FROM --platform=linux/amd64 debian:bookworm AS amd
FROM --platform=$TARGETPLATFORM alpine:3.19 AS context
ENV API_TOKEN=changeme
ARG DB_PASSWORD
EXPOSE 0.0.0.0:8080:80
EXPOSE 9000/TCP
CMD echo first
CMD ["echo", "second"]
ENTRYPOINT echo shell-form
HEALTHCHECK CMD true
HEALTHCHECK CMD false
FROM alpine:$TAG
RUN echo fine
