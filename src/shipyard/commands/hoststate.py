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

APPEND_SCRIPT = r"""set -eu
mkdir -p "$(dirname "$1")"
cat >> "$1"
"""

# One round trip that says what a fresh host lacks: each line is `name=yes|no`.
PROBE_SCRIPT = r"""for tool in docker python3 flock; do
  if command -v "$tool" >/dev/null 2>&1; then echo "$tool=yes"; else echo "$tool=no"; fi
done
if docker info >/dev/null 2>&1; then echo "docker-running=yes"; else echo "docker-running=no"; fi
if command -v apt-get >/dev/null 2>&1; then echo "apt=yes"; else echo "apt=no"; fi
for d in "$@"; do if [ -d "$d" ]; then echo "dir:$d=yes"; else echo "dir:$d=no"; fi; done
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


def make_dirs(layout: HostLayout) -> Argv:
    return ["mkdir", "-p", "-m", "0750", *layout.directories]


def probe(paths: Sequence[str] = ()) -> Argv:
    return ["sh", "-c", PROBE_SCRIPT, "shipyard-probe", *paths]


#: A droplet fresh from `terraform apply` may still be running cloud-init, which holds apt's lock: wait for
#: cloud-init to finish (where it exists), then let apt wait for the lock instead of failing at once.
APT_SCRIPT = """\
if command -v cloud-init >/dev/null 2>&1; then cloud-init status --wait >/dev/null 2>&1 || true; fi
apt-get -o DPkg::Lock::Timeout=600 update -qq &&
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@"
"""


def apt_install(packages: Sequence[str]) -> Argv:
    return ["sh", "-c", APT_SCRIPT, "shipyard-apt", *packages]
