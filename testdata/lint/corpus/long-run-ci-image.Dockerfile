FROM ubuntu:22.04
ENV DEBIAN_FRONTEND=noninteractive
# A kitchen-sink CI image: one enormous RUN to keep the layer count down.
RUN apt-get update && apt-get install -y --no-install-recommends \
        autoconf \
        automake \
        bc \
        bison \
        build-essential \
        ca-certificates \
        ccache \
        clang \
        clang-format \
        clang-tidy \
        cmake \
        cpio \
        curl \
        device-tree-compiler \
        dos2unix \
        file \
        flex \
        g++-multilib \
        gawk \
        gcc-multilib \
        gdb \
        gettext \
        git \
        git-lfs \
        gnupg \
        gperf \
        help2man \
        jq \
        less \
        libarchive-tools \
        libboost-all-dev \
        libbz2-dev \
        libcurl4-openssl-dev \
        libelf-dev \
        libffi-dev \
        libgdbm-dev \
        libglib2.0-dev \
        libgmp-dev \
        liblzma-dev \
        libmpc-dev \
        libmpfr-dev \
        libncurses-dev \
        libreadline-dev \
        libsqlite3-dev \
        libssl-dev \
        libtool \
        libtool-bin \
        libxml2-dev \
        libxslt1-dev \
        libyaml-dev \
        lld \
        llvm \
        locales \
        lsb-release \
        lz4 \
        make \
        meson \
        nasm \
        ninja-build \
        openssh-client \
        patch \
        patchelf \
        perl \
        pkg-config \
        python3 \
        python3-dev \
        python3-pip \
        python3-venv \
        rsync \
        shellcheck \
        sudo \
        swig \
        texinfo \
        tzdata \
        unzip \
        uuid-dev \
        valgrind \
        wget \
        xz-utils \
        yasm \
        zip \
        zlib1g-dev \
        zstd \
    && locale-gen en_US.UTF-8 \
    && update-alternatives --install /usr/bin/python python /usr/bin/python3 10 \
    && python3 -m pip install --no-cache-dir --upgrade pip==24.0 setuptools==69.5.1 wheel==0.43.0 \
    && python3 -m pip install --no-cache-dir conan==2.2.3 gcovr==7.2 lit==18.1.4 pyyaml==6.0.1 jinja2==3.1.3 \
    && curl -fsSL https://github.com/mikefarah/yq/releases/download/v4.43.1/yq_linux_amd64 -o /usr/local/bin/yq \
    && chmod +x /usr/local/bin/yq \
    && curl -fsSL https://github.com/koalaman/shellcheck/releases/download/v0.10.0/shellcheck-v0.10.0.linux.x86_64.tar.xz | tar -xJ -C /tmp \
    && mv /tmp/shellcheck-v0.10.0/shellcheck /usr/local/bin/ \
    && rm -rf /tmp/shellcheck-v0.10.0 \
    && for tool in protoc-gen-go protoc-gen-go-grpc buf; do echo "would fetch $tool"; done \
    && if [ "$(uname -m)" = "x86_64" ]; then echo "amd64 extras"; else echo "no extras for $(uname -m)"; fi \
    && case "$(dpkg --print-architecture)" in amd64) arch=x86_64 ;; arm64) arch=aarch64 ;; *) echo "unsupported" >&2; exit 1 ;; esac \
    && echo "arch=$arch" > /etc/ci-arch \
    && useradd -m -s /bin/bash -u 1001 ci \
    && echo 'ci ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/ci \
    && chmod 0440 /etc/sudoers.d/ci \
    && git config --system --add safe.directory '*' \
    && ccache --max-size=5G \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /tmp/* /var/tmp/*
ENV LANG=en_US.UTF-8 LC_ALL=en_US.UTF-8 CCACHE_DIR=/cache/ccache
USER ci
WORKDIR /home/ci
