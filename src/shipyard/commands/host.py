"""argv builders for host administration the test bed needs: apt, daemons, debootstrap, files, keys, pip."""

from __future__ import annotations

from collections.abc import Sequence

Argv = list[str]

#: apt must never prompt; pass as the runner's env for apt_* commands.
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive"}


def apt_update() -> Argv:
    return ["apt-get", "update", "-q"]


def apt_install(packages: Sequence[str]) -> Argv:
    return ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]


def start_daemon(executable: str, args: Sequence[str], *, pidfile: str, logfile: str) -> Argv:
    """Start a long-running program detached from us, with a pid file and its output in a log file."""
    argv = [
        "start-stop-daemon",
        "--start",
        "--background",
        "--make-pidfile",
        "--pidfile",
        pidfile,
        "--output",
        logfile,
        "--exec",
        executable,
    ]
    if args:
        argv += ["--", *args]
    return argv


def stop_daemon(pidfile: str, *, retry: str = "TERM/20/KILL/5") -> Argv:
    """Stop what `start_daemon` started; succeeds when nothing runs (--oknodo)."""
    return ["start-stop-daemon", "--stop", "--pidfile", pidfile, "--remove-pidfile", "--retry", retry, "--oknodo"]


def debootstrap(suite: str, target: str, mirror: str, *, variant: str = "minbase", include: Sequence[str] = ()) -> Argv:
    argv = ["debootstrap", f"--variant={variant}"]
    if include:
        argv.append("--include=" + ",".join(include))
    return [*argv, suite, target, mirror]


def tar_create(directory: str, archive: str) -> Argv:
    return ["tar", "--numeric-owner", "-C", directory, "-cf", archive, "."]


def remove(paths: Sequence[str]) -> Argv:
    return ["rm", "-rf", "--", *paths]


def install_file(source: str, dest: str, mode: str = "0755") -> Argv:
    return ["install", "-D", "-m", mode, source, dest]


def ssh_keygen(path: str, *, comment: str = "shipyard-testbed", key_type: str = "ed25519") -> Argv:
    return ["ssh-keygen", "-q", "-t", key_type, "-N", "", "-C", comment, "-f", path]


def pip_install_target(python: str, package: str, target: str) -> Argv:
    """Install one package (no dependencies) into a directory of its own, outside any environment."""
    return [python, "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade", "--target", target, package]


def registry_serve(binary: str, config: str) -> Argv:
    return [binary, "serve", config]


def registry_garbage_collect(binary: str, config: str) -> Argv:
    return [binary, "garbage-collect", "--delete-untagged", config]
