"""The base images: what each is built from, when it is up to date, and building the missing ones."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from shipyard.commands import docker as dk
from shipyard.commands import testbed as dcmd
from shipyard.errors import ShipyardError
from shipyard.testbed.host import Host

ASSETS = Path(__file__).parent / "assets"
DIGEST_LABEL = "org.shipyard.testbed.digest"
TAG = "bookworm"

ROOTFS = f"shipyard-base/rootfs:{TAG}"
DEBIAN = f"shipyard-base/debian:{TAG}"
PYTHON = f"shipyard-base/python:{TAG}"
NODE = f"shipyard-base/node:{TAG}"
POSTGRES = f"shipyard-base/postgres:{TAG}"
REDIS = f"shipyard-base/redis:{TAG}"
HAPROXY = f"shipyard-base/haproxy:{TAG}"
VM = f"shipyard-testbed/vm:{TAG}"
PUBLIC_DEBIAN = "debian:bookworm-slim"


@dataclass(frozen=True)
class ImageSpec:
    key: str
    ref: str
    parent: str
    with_ca: bool = False
    #: rough cold build cost; the longest builds start first so parallel builds finish together
    cost: int = 1

    @property
    def assets(self) -> Path:
        return ASSETS / self.key


#: In build order: every image but debian is built FROM debian (whose parent is chosen at run time).
IMAGES: tuple[ImageSpec, ...] = (
    ImageSpec("debian", DEBIAN, ROOTFS, with_ca=True),
    ImageSpec("python", PYTHON, DEBIAN, cost=3),
    ImageSpec("node", NODE, DEBIAN, cost=8),
    ImageSpec("postgres", POSTGRES, DEBIAN, cost=5),
    ImageSpec("redis", REDIS, DEBIAN, cost=1),
    ImageSpec("haproxy", HAPROXY, DEBIAN, cost=1),
    ImageSpec("vm", VM, DEBIAN, cost=4),
)
BY_KEY = {spec.key: spec for spec in IMAGES}


def select(keys: Iterable[str] | None) -> list[ImageSpec]:
    """The specs for `keys` (all when None), always with debian first. Unknown keys are a user error."""
    if keys is None:
        return list(IMAGES)
    wanted = set(keys)
    unknown = sorted(wanted - BY_KEY.keys())
    if unknown:
        raise ShipyardError(f"unknown base image(s): {', '.join(unknown)}",
                            hint=f"choose from {', '.join(BY_KEY)}")
    wanted.add("debian")
    return [spec for spec in IMAGES if spec.key in wanted]


def digest(spec: ImageSpec, parent_id: str, ca_files: Sequence[Path] = ()) -> str:
    """What the image is made of: its files, its parent's image ID and (for debian) the extra CA certificates."""
    h = hashlib.sha256(f"{spec.ref}\0{parent_id}\0".encode())
    for path in sorted(p for p in spec.assets.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(spec.assets)).encode() + b"\0" + path.read_bytes() + b"\0")
    if spec.with_ca:
        for path in ca_files:
            h.update(b"ca\0" + path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def image_id(host: Host, ref: str) -> str | None:
    result = host.check(dk.image_exists(ref))
    return result.stdout.strip() if result.ok and result.stdout.strip() else None


def image_digest(host: Host, ref: str) -> str | None:
    """The digest label of a local image; None when the image does not exist."""
    result = host.check(dcmd.image_label(ref, DIGEST_LABEL))
    return result.stdout.strip() if result.ok else None


def prepare_context(host: Host, spec: ImageSpec) -> Path:
    """Copy the image's files (and the CA certificates it bakes in) into a fresh build context."""
    context = host.settings.build_dir / spec.key
    if host.dry_run:
        host.say(f"[local] would copy {spec.assets} to {context}")
        return context
    if context.exists():
        shutil.rmtree(context)
    shutil.copytree(spec.assets, context)
    if spec.with_ca:
        ca_target = context / "ca-certificates"
        ca_target.mkdir()
        ca_dir = host.settings.ca_dir
        for path in host.settings.ca_files():
            relative = path.relative_to(ca_dir) if ca_dir else Path(path.name)
            (ca_target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, ca_target / relative)
    return context


def build(host: Host, spec: ImageSpec, base: str, label: str) -> None:
    context = prepare_context(host, spec)
    argv = dk.build(str(context), str(context / "Dockerfile"), [spec.ref], build_args={"BASE": base},
                    labels={DIGEST_LABEL: label})
    result = host.run(argv, timeout=1800, check=False)
    if result.ok:
        return
    log = host.settings.log_dir / f"build-{spec.key}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(result.stdout + result.stderr, encoding="utf-8")
    last = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[-1]
    raise ShipyardError(f"building {spec.ref} failed: {last}",
                        hint=f"read {log}, fix it, then run `invoke testbed.up` again")


def ensure_image(host: Host, spec: ImageSpec, base: str) -> tuple[bool, str]:
    """Build `spec` FROM `base` unless an image with the same digest label already exists."""
    parent_id = image_id(host, base)
    if parent_id is None:
        if host.dry_run:
            return True, f"would build FROM {base} (not built yet)"
        raise ShipyardError(f"cannot build {spec.ref}: its base {base} does not exist")
    want = digest(spec, parent_id, host.settings.ca_files() if spec.with_ca else ())
    have = image_digest(host, spec.ref)
    if have == want:
        return False, f"{spec.ref} up to date"
    build(host, spec, base, want)
    return True, f"{'rebuilt' if have is not None else 'built'} {spec.ref} FROM {base}"


def ensure_images(host: Host, specs: Sequence[ImageSpec], root: str) -> None:
    """debian FROM root first, then the others FROM debian, `jobs` at a time."""
    first, rest = specs[0], sorted(specs[1:], key=lambda spec: -spec.cost)
    host.report.step(f"image {first.key}", lambda: ensure_image(host, first, root))
    if not rest:
        return
    with ThreadPoolExecutor(max_workers=max(1, host.settings.jobs), thread_name_prefix="testbed-build") as pool:
        futures = [pool.submit(host.report.step, f"image {spec.key}",
                               lambda spec=spec: ensure_image(host, spec, spec.parent))  # type: ignore[misc]
                   for spec in rest]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]  # type: ignore[misc]
