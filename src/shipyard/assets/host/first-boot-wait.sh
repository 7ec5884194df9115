#!/bin/sh
# First boot: before deploy.setup touches anything, wait (bounded: LIMIT seconds in all) for cloud-init to finish
# and for apt/dpkg's locks to be free (cloud-init's packages, unattended-upgrades), and say what was waited for.
#   sh -c "$(cat first-boot-wait.sh)" shipyard-first-boot LIMIT     (commands/hoststate.py: first_boot_wait)
# A lock is held when /proc/locks (readable by any user) lists a lock on the lock file's inode. Exit 75 when the
# time is up. Prints `waited <N>s for <what>` lines (nothing when nothing was waited for).
limit=$1; start=$(date +%s)
left() { echo $((limit - ($(date +%s) - start))); }
finished() { cloud-init status 2>/dev/null | grep -qE 'status: (done|disabled|error)'; }
if command -v cloud-init >/dev/null 2>&1 && ! finished; then
  t0=$(date +%s)
  timeout "$(left)" cloud-init status --wait >/dev/null 2>&1 || true
  echo "waited $(( $(date +%s) - t0 ))s for cloud-init to finish"
fi
held() {
  for f in /var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock; do
    [ -e "$f" ] || continue
    ino=$(stat -c %i "$f")
    if awk -v ino="$ino" '{ n = split($6, a, ":"); if (a[n] == ino) found = 1 } END { exit !found }' /proc/locks
    then echo "$f"; return 0; fi
  done
  return 1
}
if lock=$(held); then
  t0=$(date +%s)
  while held >/dev/null; do
    if [ "$(left)" -le 0 ]; then echo "$lock is still held after ${limit}s (cloud-init or apt running)" >&2; exit 75; fi
    sleep 1
  done
  echo "waited $(( $(date +%s) - t0 ))s for the apt/dpkg lock ($lock)"
fi
