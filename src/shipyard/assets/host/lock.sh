#!/bin/sh
# The deploy lock: the lease file DIR/lock.json, changed only under an exclusive flock on a guard file, so the
# check-then-write is atomic on the host even when two deployers race.
#   sh -c "$(cat lock.sh)" shipyard-lock DIR MODE [ID]     (commands/hoststate.py: lock, read_lock)
# Modes: acquire (only if free), replace (only if the current lease has the id ID: renew, take over an expired
# lease), release (delete only the lease with the id ID), break (delete any), read (print the lease, if any; no
# guard taken, nothing created). acquire and replace read the new lease JSON on stdin. Exit 3: the lease belongs
# to someone else (its JSON on stdout); 75: the guard stays busy for 10 seconds; 2: an unknown mode.
# Whenever a lease is printed, a last line `age=<seconds>` follows it: the seconds since the lease file was last
# written (every renewal rewrites it), by this host's clock, so that deployers judge expiry by one clock only.
set -eu
dir=$1; mode=$2; expect=${3:-}
lease=$dir/lock.json
answer() {
  printf '%s\n' "$current"
  if [ -n "$current" ] && written=$(stat -c %Y "$lease" 2>/dev/null); then
    echo "age=$(( $(date +%s) - written ))"
  fi
}
if [ "$mode" = read ]; then
  current=$(cat "$lease" 2>/dev/null) || current=""
  if [ -n "$current" ]; then answer; fi
  exit 0
fi
mkdir -p "$dir"
exec 9>>"$dir/.lock.guard"
flock -w 10 9 || { echo "shipyard: the lock guard on this host is busy" >&2; exit 75; }
current=""
if [ -f "$lease" ]; then current=$(cat "$lease"); fi
ours=no
case "$current" in *"\"id\": \"$expect\""*) [ -n "$expect" ] && ours=yes ;; esac
case "$mode" in
  acquire) if [ -n "$current" ]; then answer; exit 3; fi ;;
  replace) if [ "$ours" != yes ]; then answer; exit 3; fi ;;
  release) if [ "$ours" = yes ] || [ -z "$current" ]; then rm -f "$lease"; exit 0; fi
           answer; exit 3 ;;
  break) answer; rm -f "$lease"; exit 0 ;;
  *) echo "shipyard: unknown lock mode $mode" >&2; exit 2 ;;
esac
cat > "$lease.tmp"
mv "$lease.tmp" "$lease"
