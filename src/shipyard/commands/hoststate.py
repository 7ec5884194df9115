"""Shipyard's state directory on a host: the deploy lock, the ledger, files written atomically. Pure argv.

Every script here is POSIX sh run as `sh -c SCRIPT NAME ARG...`, so arguments are never spliced into shell text.
The longer ones are files in shipyard/assets/host/ (see shipyard.commands.programs), which say what they do.
"""

from __future__ import annotations

from collections.abc import Sequence

from shipyard.commands.layout import HostLayout
from shipyard.commands.programs import program

Argv = list[str]

LOCK_HELD = 3  # exit code of lock.sh: the lease belongs to someone else (its JSON is on stdout)


def lock(layout: HostLayout, mode: str, expect: str = "") -> Argv:
    """The deploy lock (lock.sh): acquire, replace, release or break; the new lease JSON on stdin for acquire and
    replace. Exit LOCK_HELD: someone else holds it (its JSON on stdout, then `age=<seconds>` by the host's clock)."""
    return ["sh", "-c", program("lock.sh"), "shipyard-lock", layout.state_dir, mode, expect]


THEN_MARK = "@@shipyard:then@@"


def lock_then(layout: HostLayout, mode: str, expect: str, then: Argv) -> Argv:
    """`lock` and, only when it took the lease, `then` in the same round trip: a mark line, then its output (the
    deploy reads the host's facts this way as soon as it holds the lock). The exit status is the lock's when it
    did not take the lease, else `then`'s."""
    script = f'sh -c "$1" shipyard-lock "$2" "$3" "$4" || exit $?; shift 4; echo "{THEN_MARK}"; exec "$@"'
    return ["sh", "-c", script, "shipyard-lock-then", program("lock.sh"), layout.state_dir, mode, expect, *then]


def read_lock(layout: HostLayout) -> Argv:
    """The lease, if any, then its age by the host's clock (`age=<seconds>`); nothing when the host is not locked."""
    return lock(layout, "read")


def write_file(path: str, umask: str = "022") -> Argv:
    """Atomically replace `path` with stdin (write a temporary file, then rename)."""
    return ["sh", "-c", program("write-file.sh"), "shipyard-write", path, umask]


def file_sha256_mode(path: str) -> Argv:
    """`<sha256 hex> <octal mode>` of the file, or nothing when it does not exist (a secret is never read back)."""
    return ["sh", "-c", '[ -f "$1" ] && printf "%s %s\\n" "$(sha256sum < "$1" | cut -d" " -f1)" "$(stat -c %a "$1")"'
            " || true", "shipyard-sha256", path]


def read_file(path: str) -> Argv:
    """The file's content, or nothing when it does not exist."""
    return ["sh", "-c", 'cat "$1" 2>/dev/null || true', "shipyard-read", path]


def append_ledger(layout: HostLayout) -> Argv:
    """Append stdin (one JSON line) to the ledger, atomically and only when it is one whole line."""
    return ["sh", "-c", program("ledger-append.sh"), "shipyard-ledger", layout.ledger, program("ledger_append.py")]


def read_ledger(layout: HostLayout, last: int | None = None) -> Argv:
    if last is None:
        return read_file(layout.ledger)
    return ["sh", "-c", 'tail -n "$2" "$1" 2>/dev/null || true', "shipyard-read", layout.ledger, str(last)]


def _specs(layout: HostLayout) -> list[str]:
    return [f"{mode}:{path}" for path, mode in layout.directory_modes]


def make_dirs(layout: HostLayout) -> Argv:
    """The project's directories with the state root's group and their modes (the state root must exist)."""
    return ["sh", "-c", program("make-dirs.sh"), "shipyard-dirs", layout.root, *_specs(layout)]


def make_state_root(layout: HostLayout, user: str, gid: str) -> Argv:
    """The state root for `user` (run as root or through sudo: only a host without host-setup.sh needs it)."""
    return ["install", "-d", "-o", user, "-g", gid, "-m", "2750", layout.root]


def probe(layout: HostLayout) -> Argv:
    """What a fresh host lacks (tools, the state root, the project's directories), one `name=value` a line."""
    return ["sh", "-c", program("probe.sh"), "shipyard-probe", layout.root, *_specs(layout)]


def as_root(argv: Argv, *, root: bool) -> Argv:
    """`argv` as root: unchanged for root, through `sudo -n` (never a password prompt) for anyone else."""
    return argv if root else ["sudo", "-n", *argv]


def first_boot_wait(limit: int = 900) -> Argv:
    """Wait (at most `limit` seconds) for cloud-init and apt's locks on a fresh droplet; exit 75 when time is up."""
    return ["sh", "-c", program("first-boot-wait.sh"), "shipyard-first-boot", str(limit)]


def apt_install(packages: Sequence[str]) -> Argv:
    """apt-get install, after cloud-init finished, waiting for apt's lock rather than failing at once."""
    return ["sh", "-c", program("apt-install.sh"), "shipyard-apt", *packages]
