FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates && rm -rf /var/lib/apt/lists/*
# Without pipefail a failed download is hidden by the shell.
RUN curl -fsSL https://get.example.sh | sh
SHELL ["/bin/bash", "-eo", "pipefail", "-c"]
RUN curl -fsSL https://example.com/key.asc | gpg --dearmor > /usr/share/keyrings/example.gpg
SHELL ["/bin/sh", "-c"]
RUN set -o pipefail 2>/dev/null || true; wget -qO- https://example.com/list | sort | uniq > /tmp/list
CMD ["bash"]
