#!/bin/sh
set -eu
cd /srv/app
echo "$(wc -l < out/index) records, $(cat out/lines) lines"
sha256sum -c out/SHA256SUMS >/dev/null && echo "checksums ok"
