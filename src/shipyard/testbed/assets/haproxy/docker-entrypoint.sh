#!/bin/sh
# Stand-in for the official haproxy entrypoint: haproxy in master-worker mode, in the foreground.
set -e

if [ "${1#-}" != "$1" ]; then
    set -- haproxy "$@"
fi

if [ "$1" = 'haproxy' ]; then
    shift
    set -- haproxy -W -db "$@"
fi

exec "$@"
