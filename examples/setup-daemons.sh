#!/bin/sh
# Installs what nginx.toml, redis.toml and hellod.toml use, from the files
# beside this script: configs in /etc/daemonbox-examples/NAME (root-owned,
# read-only to the daemons), hellod.py in /usr/local/lib/daemonbox-examples,
# and redis's data directory /var/lib/daemonbox-redis (redis:redis, 0750).
# Run again, it puts the configs back as shipped.
# Usage: setup-daemons.sh [nginx] [redis] [hellod]   (default: all three)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
etc=/etc/daemonbox-examples
need() {
	if ! [ -x "$1" ]; then
		echo "setup-daemons.sh: $2 needs $1: apt-get install $3" >&2
		exit 1
	fi
}
nginx() {
	need /usr/sbin/nginx nginx nginx
	install -d -m 0755 "$etc" "$etc/nginx" "$etc/nginx/www"
	install -m 0644 "$here/nginx.conf" "$etc/nginx/nginx.conf"
	printf '<h1>served by nginx under daemonbox</h1>\n' > "$etc/nginx/www/index.html"
	chmod 0644 "$etc/nginx/www/index.html"
}
redis() {
	need /usr/bin/redis-server redis redis-server
	if ! id redis >/dev/null 2>&1; then
		echo "setup-daemons.sh: redis needs the redis user (made by Debian's redis-tools)" >&2
		exit 1
	fi
	install -d -m 0755 "$etc" "$etc/redis"
	install -m 0644 "$here/redis.conf" "$etc/redis/redis.conf"
	install -d -m 0750 -o redis -g redis /var/lib/daemonbox-redis
}
hellod() {
	need /usr/bin/python3 hellod python3
	install -d -m 0755 "$etc" "$etc/hellod" /usr/local/lib/daemonbox-examples
	install -m 0644 "$here/hellod.conf" "$etc/hellod/hellod.conf"
	install -m 0755 "$here/hellod.py" /usr/local/lib/daemonbox-examples/hellod.py
}
[ $# -gt 0 ] || set -- nginx redis hellod
for name in "$@"; do
	case $name in
	nginx | redis | hellod) "$name" ;;
	*)
		echo "setup-daemons.sh: no example $name (nginx, redis, hellod)" >&2
		exit 2
		;;
	esac
	echo "$name is ready"
done
