#!/bin/sh
# Prints a fixed report from its arguments, its environment and files made in the build
# stage. The integration test runs the image and compares the output with EXPECTED.md.
set -eu
echo "args: $*"
echo "greeting: $GREETING"
echo "user: $(id -u):$(id -g)"
echo "cwd: $(pwd)"
echo "data: $(cat /app/build/lib/data-symlink.txt)"
echo "version: $(cat /app/build/version.txt)"
echo "conf: $(cat /app/app.conf)"
