FROM redis:7.2-alpine AS cache
HEALTHCHECK --interval=5s --timeout=3s --retries=5 CMD redis-cli ping | grep -q PONG

FROM postgres:16 AS db
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s \
    CMD ["pg_isready", "-U", "postgres"]

FROM nginx:1.27 AS proxy
# The base image's check does not apply here.
HEALTHCHECK NONE

FROM busybox:1.36 AS probe
HEALTHCHECK --start-period=1m --start-interval=5s --interval=30s \
  CMD wget -q --spider http://127.0.0.1:8080/ || exit 1
CMD ["httpd", "-f", "-p", "8080"]
