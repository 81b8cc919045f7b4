#!/usr/bin/env bash
# make-context.sh DIR — write a build context for a busybox base image into DIR.
#
# The image is made from Debian's statically linked /bin/busybox (package busybox-static):
#   DIR/Dockerfile            FROM scratch / COPY rootfs/ / / CMD ["/bin/sh"]
#   DIR/rootfs/bin/busybox    plus one symlink per applet (busybox --list) in bin/
#   DIR/rootfs/etc/passwd     root, nobody, app (1000:1000)
#   DIR/rootfs/etc/group      root, nogroup, app (1000), staff (50, member app)
#   DIR/rootfs/tmp            mode 1777
#   DIR/rootfs/{dev,proc,sys} empty, as in any real base image, so that the mount points runc
#                             creates for a RUN never show up in a RUN layer
# Every mtime is set to SOURCE_DATE_EPOCH (default 0), so two runs on the same busybox give
# byte-identical contexts. BUSYBOX=PATH picks another static busybox binary.
set -euo pipefail

usage() {
	echo "usage: $0 DIR" >&2
	exit 2
}

[ $# -eq 1 ] || usage
dir=$1
busybox=${BUSYBOX:-/bin/busybox}
epoch=${SOURCE_DATE_EPOCH:-0}

if [ ! -x "$busybox" ]; then
	echo "$0: $busybox not found; install it with: apt-get install busybox-static" >&2
	exit 1
fi
# A dynamically linked busybox (Debian's "busybox" package) would not run FROM scratch.
if ldd "$busybox" >/dev/null 2>&1; then
	echo "$0: $busybox is dynamically linked; install busybox-static instead" >&2
	exit 1
fi
if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
	echo "$0: $dir exists and is not empty" >&2
	exit 1
fi

umask 022
root=$dir/rootfs
mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/dev" "$root/proc" "$root/sys"
chmod 1777 "$root/tmp"

install -m 0755 "$busybox" "$root/bin/busybox"
"$busybox" --list | while IFS= read -r applet; do
	case $applet in
	busybox | '' | */*) continue ;;
	esac
	ln -s busybox "$root/bin/$applet"
done

cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
app:x:1000:1000::/home/app:/bin/sh
PASSWD

cat >"$root/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
app:x:1000:
staff:x:50:app
GROUP
chmod 0644 "$root/etc/passwd" "$root/etc/group"

cat >"$dir/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
CMD ["/bin/sh"]
DOCKERFILE

# Children before parents (-depth), so creating entries does not bump a touched directory.
find "$dir" -depth -exec touch -h -d "@$epoch" {} +
