# syntax=docker/dockerfile:1
# This file starts with a UTF-8 byte order mark, as some editors write it.
FROM alpine:3.19
LABEL org.opencontainers.image.title="café" \
      org.opencontainers.image.description="naïve résumé builder — ünïcödé"
RUN echo "héllo wörld" > /greeting
CMD ["cat", "/greeting"]
