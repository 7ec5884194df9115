"""Build or reuse `<service>:<sha>` and make sure the registry has it, before any host or cluster is touched.

The one release step of every target: a VM deploy and a Kubernetes deploy build, stamp, push and record digests
here, the same way (`ship`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from shipyard import imageref
from shipyard.commands import docker
from shipyard.config.schema import Build
from shipyard.errors import ShipyardError
from shipyard.release import Release
from shipyard.run.base import Runner
from shipyard.targets import registry as reg
from shipyard.targets.compose import build_image
from shipyard.targets.shipping import Shipping


def registry_digest(target: Shipping, service: str, tag: str) -> str | None:
    """The digest the registry stores for `<service>:<tag>` (read for real, also in a dry run), or None."""
    return target.registry_client().digest(target.repository(service), tag)


def registry_access(target: Shipping, runner: Runner, say: Callable[[str], None] = print) -> str | None:
    """Before anything is built: the registry answers and takes our credentials (a one-line error if not);
    with credentials, `docker login` here (printed in a dry run). Returns the Docker config pushes use."""
    target.registry_client().check()
    creds = target.registry_credentials()
    if creds is None:
        return None
    folder = reg.local_docker_config(target.project)
    reg.login_local(runner, target.registry, creds, folder, say=say)
    return str(folder)


def ensure(target: Shipping, release: Release, runner: Runner, probe: Runner, *, root: Path, build: bool = True,
           build_args: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None,
           settings: Build | None = None, platform: str | None = None,
           builder: Runner | None = None, say: Callable[[str], None] = print) -> dict[str, str]:
    """Service -> image reference, every one present in the registry (built and pushed when needed).

    `probe` runs the read-only checks (registry, local images) for real; `runner` does the rest (or prints it);
    `builder` (default `runner`) runs builds, e.g. a runner that shows one line per Dockerfile step. Builds are
    exactly docker.build's (`targets.compose.build_image`): build args from `settings` (shipyard.yaml's build
    section), `environ` and .env, `build_args` on top; `platform` overrides build.platform.
    """
    config_dir = registry_access(target, runner, say)
    images: dict[str, str] = {}
    known: dict[str, str] = {}  # digests already read from the registry (reused images)
    for name, service in sorted(target.services.items()):
        ref = target.image(name, release.tag)
        images[name] = ref
        if (digest := registry_digest(target, name, release.tag)) is not None:
            known[name] = digest
            say(f"image {ref}: already in the registry (reused)")
            continue
        local = probe.run(docker.image_exists(ref), timeout=60, check=False).ok
        if not local:
            if not build:
                raise ShipyardError(f"image {ref} is neither in the registry nor on this machine",
                                    hint="deploy a SHA that was built and pushed, or drop --sha to build HEAD")
            if runner.dry_run:
                say(f"image {ref}: would build")
            build_image(root, name, service, ref, release, builder or runner, environ=environ or {},
                        project=target.project, settings=settings, extra_args=build_args, platform=platform,
                        retry=f"invoke deploy --env {target.env_name}", say=say)
        say(f"image {ref}: {'would push' if runner.dry_run else 'pushing'}")
        runner.run(docker.push(ref, config=config_dir), timeout=3600)
    if runner.dry_run:  # what is in the registry already, by its digest; what would be pushed, by its tag
        return {name: imageref.pinned(ref, known[name]) if name in known else ref for name, ref in images.items()}
    return pin(target, images, release.tag, say, known)


def pin(target: Shipping, images: Mapping[str, str], tag: str, say: Callable[[str], None] = print,
        known: Mapping[str, str] | None = None) -> dict[str, str]:
    """Each service's image by the digest the registry stores for its tag now (just pushed, or found there):
    hosts pull and run `repo@sha256:...`, and the ledger records it, so a tag overwritten later in the registry
    never changes what a host runs or what a rollback brings back."""
    out: dict[str, str] = {}
    for name, ref in images.items():
        digest = (known or {}).get(name) or registry_digest(target, name, tag)  # pushed: read once, now
        if digest is None:
            raise ShipyardError(f"the registry {target.registry.address} has no manifest for {ref} after the push",
                                hint="check the registry (`invoke deploy.status`), then deploy again")
        out[name] = imageref.pinned(ref, digest)
        say(f"image {ref}: pinned to {digest}")
    return out


def ship(shipping: Shipping, release: Release, *, root: Path, dry_run: bool, build: bool,
         build_args: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None,
         platform: str | None = None, builder: Runner | None = None,
         say: Callable[[str], None] = print) -> dict[str, str]:
    """`ensure` with the runners every deploy uses: checks read for real, changes printed in a dry run."""
    from shipyard.run import DryRunRunner, LocalRunner

    local = LocalRunner()
    settings = shipping.config.project.build if shipping.config is not None else None
    return ensure(shipping, release, DryRunRunner(printer=say) if dry_run else local, local, root=root, build=build,
                  build_args=build_args, environ=environ, settings=settings, platform=platform,
                  builder=None if dry_run else builder, say=say)
