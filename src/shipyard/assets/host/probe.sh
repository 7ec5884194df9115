#!/bin/sh
# What a fresh host lacks, in one round trip: one `name=value` line each (mostly yes/no).
#   sh -c "$(cat probe.sh)" shipyard-probe ROOT MODE:DIR...     (commands/hoststate.py: probe)
# ROOT is the state root; for each MODE:DIR of the project's directories, `dir:DIR=yes` when DIR exists with
# that mode and the state root's group.
root=$1; shift
for tool in docker python3 flock; do
  if command -v "$tool" >/dev/null 2>&1; then echo "$tool=yes"; else echo "$tool=no"; fi
done
if docker info >/dev/null 2>&1; then echo "docker-running=yes"; else echo "docker-running=no"; fi
if [ -S /var/run/docker.sock ] && [ ! -w /var/run/docker.sock ]; then echo "docker-denied=yes"; fi
if command -v apt-get >/dev/null 2>&1; then echo "apt=yes"; else echo "apt=no"; fi
echo "user=$(id -un)"
if [ "$(id -u)" = 0 ]; then echo "root=yes"; else echo "root=no"
  if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then echo "sudo=yes"; else echo "sudo=no"; fi
fi
if [ -d "$root" ]; then echo "state-root=yes"; gid=$(stat -c %g "$root"); else echo "state-root=no"; gid=$(id -g); fi
echo "gid=$gid"
for spec in "$@"; do
  mode=${spec%%:*}; d=${spec#*:}
  if [ -d "$d" ] && [ "$(stat -c '%g %a' "$d")" = "$gid $mode" ]; then echo "dir:$d=yes"; else echo "dir:$d=no"; fi
done
