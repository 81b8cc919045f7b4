FROM postgres:16-bookworm
ENV PGVECTOR_VERSION=0.7.0
RUN set -ex \
    && apt-get update \
    && apt-get install -y --no-install-recommends build-essential git postgresql-server-dev-16 \
    && git clone --branch v${PGVECTOR_VERSION} --depth 1 https://github.com/pgvector/pgvector.git /tmp/pgvector \
    && make -C /tmp/pgvector OPTFLAGS="" \
    && make -C /tmp/pgvector install \
    && apt-get purge -y --auto-remove build-essential git postgresql-server-dev-16 \
    && rm -rf /tmp/pgvector /var/lib/apt/lists/*
COPY initdb/*.sql /docker-entrypoint-initdb.d/
