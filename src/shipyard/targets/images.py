"""Build or reuse `<service>:<sha>` and make sure the registry has it, before any host is touched."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from shipyard.commands import docker
from shipyard.commands import registry as reg_cmd
from shipyard.errors import ShipyardError
from shipyard.release import Release
from shipyard.run.base import Runner
from shipyard.targets.compose import build_image
from shipyard.targets.vmtarget import Target


def in_registry(target: Target, service: str, tag: str, runner: Runner) -> bool:
    result = runner.run(reg_cmd.manifest_digest(target.registry, service, tag), timeout=60, check=False)
    return result.ok


def ensure(target: Target, release: Release, runner: Runner, probe: Runner, *, root: Path, build: bool = True,
           build_args: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None,
           builder: Runner | None = None, say: Callable[[str], None] = print) -> dict[str, str]:
    """Service -> image reference, every one present in the registry (built and pushed when needed).

    `probe` runs the read-only checks (registry, local images) for real; `runner` does the rest (or prints it);
    `builder` (default `runner`) runs builds, e.g. a runner that shows one line per Dockerfile step. Builds are
    exactly docker.build's (`targets.compose.build_image`): build args from `environ` and .env, `build_args` on top.
    """
    images: dict[str, str] = {}
    for name, service in sorted(target.services.items()):
        ref = target.image(name, release.tag)
        images[name] = ref
        if in_registry(target, name, release.tag, probe):
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
                        project=target.project, extra_args=build_args,
                        retry=f"invoke deploy --env {target.env_name}", say=say)
        say(f"image {ref}: {'would push' if runner.dry_run else 'pushing'}")
        runner.run(docker.push(ref), timeout=3600)
    return images
