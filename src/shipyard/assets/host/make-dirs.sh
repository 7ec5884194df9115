#!/bin/sh
# The project's directories under the state root: created when missing, given the root's group and their mode.
#   sh -c "$(cat make-dirs.sh)" shipyard-dirs ROOT MODE:DIR...     (commands/hoststate.py: make_dirs)
# Run as the SSH user: it owns them (host-setup.sh hands the state root to it), so no root is needed.
# Exit 77: a directory belongs to someone else (host-setup.sh has not run).
set -eu
root=$1; shift
gid=$(stat -c %g "$root")
for spec in "$@"; do
  mode=${spec%%:*}; d=${spec#*:}
  [ -d "$d" ] || mkdir "$d"
  if ! { chgrp "$gid" "$d" && chmod "$mode" "$d"; } 2>/dev/null; then
    echo "$d belongs to $(stat -c %U:%G "$d"), not $(id -un): run host-setup.sh on the host as root" \
         "(it hands Shipyard's state to the deploy user)" >&2
    exit 77
  fi
done
