#!/bin/sh
# Create the unprivileged user `app` (uid/gid 10001) on Debian (useradd) or Alpine (busybox adduser).
# Usage: add-user HOME_DIR
set -eu
home="${1:-/app}"
if command -v useradd >/dev/null 2>&1; then
  groupadd --gid 10001 app
  useradd --uid 10001 --gid app --home-dir "$home" --no-create-home --shell /usr/sbin/nologin app
else
  addgroup -g 10001 -S app
  adduser -u 10001 -S -D -G app -h "$home" -H -s /sbin/nologin app
fi
