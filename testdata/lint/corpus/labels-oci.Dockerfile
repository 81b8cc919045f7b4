FROM alpine:3.19
ARG BUILD_DATE
ARG VCS_REF
ARG VERSION=0.0.0
LABEL org.opencontainers.image.created="${BUILD_DATE}" \
      org.opencontainers.image.revision="${VCS_REF}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/example/tooling" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.authors="ops@example.com" \
      org.opencontainers.image.url="https://example.com/tooling" \
      org.opencontainers.image.title="tooling" \
      org.opencontainers.image.description="Operator tooling image"
LABEL "com.example.multi word"="value with spaces" com.example.empty=""
LABEL org.label-schema.schema-version="1.0" org.label-schema.build-date=$BUILD_DATE
RUN apk add --no-cache bash curl jq
CMD ["bash"]
