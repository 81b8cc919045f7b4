FROM alpine:3.19
RUN apk add --no-cache \
        --repository=https://dl-cdn.alpinelinux.org/alpine/edge/testing \
        --repository=https://dl-cdn.alpinelinux.org/alpine/edge/community \
        hurl~=4.2 \
    && apk add --no-cache tini=0.19.0-r2 \
    && apk upgrade --no-cache
RUN apk update && apk add bash
ENTRYPOINT ["/sbin/tini", "--"]
CMD ["hurl", "--version"]
