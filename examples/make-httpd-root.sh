#!/bin/sh
# Builds the root directory that httpd.toml, full.toml and isolated.toml use:
# a static busybox and one web page, root-owned and not writable by others.
# Usage: make-httpd-root.sh [DIR]   (default /srv/daemonbox-httpd)
set -eu
root=${1:-/srv/daemonbox-httpd}
busybox=/bin/busybox
if ! [ -x "$busybox" ] || ! "$busybox" --list >/dev/null 2>&1; then
	echo "make-httpd-root.sh: needs a static busybox: apt-get install busybox-static" >&2
	exit 1
fi
# proc, dev and tmp are mount points: isolated.toml run rootless cannot
# create them in a root-owned root.
install -d -m 0755 -o root -g root "$root" "$root/bin" "$root/www" "$root/proc" "$root/dev" "$root/tmp"
install -m 0755 -o root -g root "$busybox" "$root/bin/busybox"
printf '<h1>served by busybox httpd under daemonbox</h1>\n' > "$root/www/index.html"
chmod 0644 "$root/www/index.html"
echo "$root is ready"
