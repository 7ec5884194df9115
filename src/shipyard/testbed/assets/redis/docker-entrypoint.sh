#!/usr/bin/env bash
# Stand-in for the official redis entrypoint: run as the redis user; without a config file, listen on
# every interface with protected mode off (the container's network is the boundary).
set -Eeuo pipefail

if [ "${1:0:1}" = '-' ] || [ "${1%.conf}" != "$1" ]; then
    set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
    find . \! -user redis -exec chown redis '{}' +
    exec setpriv --reuid=redis --regid=redis --init-groups "${BASH_SOURCE[0]}" "$@"
fi

if [ "$1" = 'redis-server' ] && { [ $# -lt 2 ] || [ ! -f "$2" ]; }; then
    shift
    set -- redis-server --protected-mode no "$@"
fi

exec "$@"
