#!/bin/sh
# The deploy lock: the lease file DIR/lock.json, changed only under an exclusive flock on a guard file, so the
# check-then-write is atomic on the host even when two deployers race.
#   sh -c "$(cat lock.sh)" shipyard-lock DIR MODE [ID]     (commands/hoststate.py: lock)
# Modes: acquire (only if free), replace (only if the current lease has the id ID: renew, take over an expired
# lease), release (delete only the lease with the id ID), break (delete any). acquire and replace read the new
# lease JSON on stdin. Exit 3: the lease belongs to someone else (its JSON on stdout); 75: the guard stays busy
# for 10 seconds; 2: an unknown mode.
set -eu
dir=$1; mode=$2; expect=${3:-}
mkdir -p "$dir"
exec 9>>"$dir/.lock.guard"
flock -w 10 9 || { echo "shipyard: the lock guard on this host is busy" >&2; exit 75; }
current=""
if [ -f "$dir/lock.json" ]; then current=$(cat "$dir/lock.json"); fi
ours=no
case "$current" in *"\"id\": \"$expect\""*) [ -n "$expect" ] && ours=yes ;; esac
case "$mode" in
  acquire) if [ -n "$current" ]; then printf '%s\n' "$current"; exit 3; fi ;;
  replace) if [ "$ours" != yes ]; then printf '%s\n' "$current"; exit 3; fi ;;
  release) if [ "$ours" = yes ] || [ -z "$current" ]; then rm -f "$dir/lock.json"; exit 0; fi
           printf '%s\n' "$current"; exit 3 ;;
  break) printf '%s\n' "$current"; rm -f "$dir/lock.json"; exit 0 ;;
  *) echo "shipyard: unknown lock mode $mode" >&2; exit 2 ;;
esac
cat > "$dir/lock.json.tmp"
mv "$dir/lock.json.tmp" "$dir/lock.json"
