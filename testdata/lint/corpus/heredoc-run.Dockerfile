# syntax=docker/dockerfile:1
FROM debian:bookworm-slim
ARG USERNAME=builder

RUN <<EOF
set -eu
apt-get update
apt-get install -y --no-install-recommends git ca-certificates
rm -rf /var/lib/apt/lists/*
useradd --create-home --shell /bin/bash "${USERNAME}"
EOF

# The body is expanded by the shell, not by the Dockerfile parser.
RUN <<EOF bash
for dir in cache logs run; do
  mkdir -p "/var/lib/app/$dir"
done
chown -R ${USERNAME}: /var/lib/app
EOF

USER ${USERNAME}
WORKDIR /home/${USERNAME}
CMD ["bash"]
