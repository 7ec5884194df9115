"""Shipyard's state directory on a host: the deploy lock, the ledger, files written atomically. Pure argv.

Every script here is POSIX sh run as `sh -c SCRIPT NAME ARG...`, so arguments are never spliced into shell text.
"""

from __future__ import annotations

from collections.abc import Sequence

from shipyard.commands.layout import HostLayout

Argv = list[str]

# The lease file changes only under an exclusive flock on a guard file, so the check-then-write is atomic on
# the host even when two deployers race. Modes: acquire (only if free), replace (only if the current lease has
# the expected id: renew, take over an expired lease), release (delete only our own lease), break (delete any).
LOCK_SCRIPT = r"""set -eu
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
"""
LOCK_HELD = 3  # exit code: the lease belongs to someone else (its JSON is on stdout)

WRITE_SCRIPT = r"""set -eu
umask "$2"
mkdir -p "$(dirname "$1")"
cat > "$1.tmp"
mv "$1.tmp" "$1"
"""

# Append one complete line atomically: the whole input is read first and must end with a newline (a deployer
# killed mid-send leaves nothing, never half a line), then one O_APPEND write puts it at the end of the file.
APPEND_SCRIPT = r"""set -eu
mkdir -p "$(dirname "$1")"
exec python3 -I -S -c '
import os, sys
data = sys.stdin.buffer.read()
if not data.endswith(b"\n") or data.count(b"\n") != 1:
    sys.exit("shipyard-ledger: refusing an incomplete or multi-line entry")
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
try:
    if os.write(fd, data) != len(data):
        sys.exit("shipyard-ledger: short write")
finally:
    os.close(fd)
' "$1"
"""

# One round trip that says what a fresh host lacks: each line is `name=value` (mostly yes/no). $1 is the state
# root; then `MODE:PATH` for each of the project's directories: `dir:PATH=yes` when it exists with that mode and
# the state root's group.
PROBE_SCRIPT = r"""root=$1; shift
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
"""

# The project's directories under the state root: created when missing, given the root's group and their mode.
# Run as the SSH user: it owns them (host-setup.sh hands the state root to it), so no root is needed.
DIRS_SCRIPT = r"""set -eu
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
"""


def lock(layout: HostLayout, mode: str, expect: str = "") -> Argv:
    """Run with the new lease JSON on stdin for acquire/replace."""
    return ["sh", "-c", LOCK_SCRIPT, "shipyard-lock", layout.state_dir, mode, expect]


def read_lock(layout: HostLayout) -> Argv:
    return ["sh", "-c", 'cat "$1" 2>/dev/null || true', "shipyard-read", layout.lock]


def write_file(path: str, umask: str = "022") -> Argv:
    """Atomically replace `path` with stdin (write a temporary file, then rename)."""
    return ["sh", "-c", WRITE_SCRIPT, "shipyard-write", path, umask]


def file_sha256(path: str) -> Argv:
    """The file's sha256 (hex), or nothing when it does not exist: compare without reading a secret back."""
    return ["sh", "-c", 'sha256sum "$1" 2>/dev/null | cut -d" " -f1', "shipyard-sha256", path]


def file_sha256_mode(path: str) -> Argv:
    """`<sha256 hex> <octal mode>` of the file, or nothing when it does not exist (a secret is never read back)."""
    return ["sh", "-c", '[ -f "$1" ] && printf "%s %s\\n" "$(sha256sum < "$1" | cut -d" " -f1)" "$(stat -c %a "$1")"'
            " || true", "shipyard-sha256", path]


def read_file(path: str) -> Argv:
    """The file's content, or nothing when it does not exist."""
    return ["sh", "-c", 'cat "$1" 2>/dev/null || true', "shipyard-read", path]


def append_ledger(layout: HostLayout) -> Argv:
    """Append stdin (one JSON line) to the ledger."""
    return ["sh", "-c", APPEND_SCRIPT, "shipyard-ledger", layout.ledger]


def read_ledger(layout: HostLayout, last: int | None = None) -> Argv:
    if last is None:
        return read_file(layout.ledger)
    return ["sh", "-c", 'tail -n "$2" "$1" 2>/dev/null || true', "shipyard-read", layout.ledger, str(last)]


def _specs(layout: HostLayout) -> list[str]:
    return [f"{mode}:{path}" for path, mode in layout.directory_modes]


def make_dirs(layout: HostLayout) -> Argv:
    """The project's directories with the state root's group and their modes (the state root must exist)."""
    return ["sh", "-c", DIRS_SCRIPT, "shipyard-dirs", layout.root, *_specs(layout)]


def make_state_root(layout: HostLayout, user: str, gid: str) -> Argv:
    """The state root for `user` (run as root or through sudo: only a host without host-setup.sh needs it)."""
    return ["install", "-d", "-o", user, "-g", gid, "-m", "2750", layout.root]


def probe(layout: HostLayout) -> Argv:
    return ["sh", "-c", PROBE_SCRIPT, "shipyard-probe", layout.root, *_specs(layout)]


def as_root(argv: Argv, *, root: bool) -> Argv:
    """`argv` as root: unchanged for root, through `sudo -n` (never a password prompt) for anyone else."""
    return argv if root else ["sudo", "-n", *argv]


#: A droplet fresh from `terraform apply` may still be running cloud-init, which holds apt's lock: wait for
#: cloud-init to finish (where it exists), then let apt wait for the lock instead of failing at once.
APT_SCRIPT = """\
if command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null 2>&1 || true; fi
apt-get -o DPkg::Lock::Timeout=600 update -qq &&
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@"
"""


#: First boot: before deploy.setup touches anything, wait (bounded: $1 seconds in all) for cloud-init to finish
#: and for apt/dpkg's locks to be free (cloud-init's packages, unattended-upgrades), and say what was waited for.
#: A lock is held when /proc/locks (readable by any user) lists a lock on the lock file's inode. Exit 75 when
#: the time is up. Prints `waited <N>s for <what>` lines (nothing when nothing was waited for).
FIRST_BOOT_SCRIPT = r"""limit=$1; start=$(date +%s)
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
"""


def first_boot_wait(limit: int = 900) -> Argv:
    return ["sh", "-c", FIRST_BOOT_SCRIPT, "shipyard-first-boot", str(limit)]


def apt_install(packages: Sequence[str]) -> Argv:
    return ["sh", "-c", APT_SCRIPT, "shipyard-apt", *packages]
