#!/bin/sh
# hello [NAME...]: prints the banner made in the build stage, then greets each NAME.
set -eu
cat /usr/share/hello/banner.txt
[ $# -gt 0 ] || set -- world
for name in "$@"; do
	echo "Hello, $name! ($(cat /usr/share/hello/version), running as $(id -un))"
done
