"""The root of every base image: the public Debian image if it can be pulled, else a debootstrap import.

The debootstrap tarball is cached (keyed by suite, mirror and package list) so a rebuild skips the download.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from shipyard.commands import docker as dk
from shipyard.commands import host as cmd
from shipyard.commands import testbed as dcmd
from shipyard.errors import ShipyardError
from shipyard.testbed.engine import apt_install
from shipyard.testbed.host import Host
from shipyard.testbed.images import DIGEST_LABEL, PUBLIC_DEBIAN, ROOTFS, image_digest, image_id
from shipyard.testbed.settings import SUITE

INCLUDE = ("ca-certificates", "curl")
VARIANT = "minbase"
#: Removed from the rootfs before it is archived: package caches, lists and documentation.
TRIM = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/info")
IMPORT_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    'CMD ["bash"]',
)


def sources_list(mirror: str, security_mirror: str, suite: str = SUITE) -> str:
    return (f"deb {mirror} {suite} main\n"
            f"deb {mirror} {suite}-updates main\n"
            f"deb {security_mirror} {suite}-security main\n")


def rootfs_key(mirror: str, security_mirror: str, suite: str = SUITE) -> str:
    text = "\0".join((suite, VARIANT, ",".join(INCLUDE), sources_list(mirror, security_mirror, suite)))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def ensure_root(host: Host) -> tuple[str, tuple[bool, str]]:
    """Returns the image to build debian FROM, and the step outcome."""
    s = host.settings
    key = rootfs_key(s.mirror, s.security_mirror)
    if image_digest(host, ROOTFS) == key:
        return ROOTFS, (False, f"{ROOTFS} (debootstrap {SUITE} {VARIANT})")
    if s.try_public:
        if image_id(host, PUBLIC_DEBIAN):
            return PUBLIC_DEBIAN, (False, f"public {PUBLIC_DEBIAN} present")
        if not host.dry_run and pull(host, PUBLIC_DEBIAN):
            return PUBLIC_DEBIAN, (True, f"pulled public {PUBLIC_DEBIAN}")
    return ROOTFS, (True, build_rootfs(host, key))


def pull(host: Host, ref: str) -> bool:
    try:
        return host.check(dk.pull(ref), timeout=host.settings.pull_timeout).ok
    except ShipyardError:  # timed out: treat as "no public registry"
        return False


def build_rootfs(host: Host, key: str) -> str:
    s = host.settings
    archive = s.rootfs_dir / f"{SUITE}-{VARIANT}-{key}.tar"
    notes = []
    if archive.is_file():
        notes.append(f"cached {archive.name}")
    else:
        debootstrap(host, archive)
        notes.append(f"debootstrap {SUITE} -> {archive}")
    host.run(dcmd.import_rootfs(str(archive), ROOTFS, changes=(*IMPORT_CHANGES, f"LABEL {DIGEST_LABEL}={key}")),
             timeout=600)
    notes.append(f"imported {ROOTFS}")
    return "; ".join(notes)


def debootstrap(host: Host, archive: Path) -> None:
    s = host.settings
    if host.which("debootstrap") is None:
        apt_install(host, ["debootstrap"])
    target = archive.with_suffix(".d")
    host.mkdir(s.rootfs_dir)
    host.run(cmd.remove([str(target)]))
    try:
        host.run(cmd.debootstrap(SUITE, str(target), s.mirror, variant=VARIANT, include=INCLUDE), timeout=1200)
    except ShipyardError as exc:
        raise ShipyardError(f"debootstrap of {SUITE} from {s.mirror} failed: {exc}",
                            hint=f"read {target}/debootstrap/debootstrap.log; check the mirror (--mirror)") from None
    host.write_text(target / "etc/apt/sources.list", sources_list(s.mirror, s.security_mirror))
    host.run(cmd.remove([str(target / p) for p in TRIM]))
    for keep in ("var/cache/apt/archives/partial", "var/lib/apt/lists/partial"):
        host.mkdir(target / keep)
    partial = archive.with_suffix(".partial")
    host.run(cmd.tar_create(str(target), str(partial)), timeout=600)
    if not host.dry_run:
        partial.replace(archive)
    host.run(cmd.remove([str(target)]))
