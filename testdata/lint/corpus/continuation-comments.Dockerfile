FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
    # networking
    curl \
    iproute2 \
    # debugging tools

    strace \
    gdb \
    # editors
    # (only one of them)
    vim-tiny \
 && rm -rf /var/lib/apt/lists/*
ENV A=1 \
    # comment between env pairs
    B=2
LABEL one="1" \

      two="2"
CMD ["bash"]
