"""`docker`: the whole stack on this machine (Compose), health-gated, plus SHA-tagged release images."""

from __future__ import annotations

import os
import sys
from typing import Any

from invoke.collection import Collection

from shipyard.tasks._base import load_config, runner, task

ENV_HELP = "compose environment from shipyard.yaml (default: dev)"
DRY_HELP = "print the exact commands without running them"


def _say(line: str) -> None:
    from shipyard.targets.progress import say

    say(line)


YES_HELP = "confirm a change to an environment that requires approval"


def _target(env: str, dry_run: bool, *, needs_secrets: bool = False, change: str | None = None,
            yes: bool = False) -> Any:
    """The compose environment's target; with `change` (the command's name), only once approval allows it."""
    from shipyard.targets.compose_verbs import compose_target

    return compose_target(load_config(), env, dry_run, needs_secrets=needs_secrets, change=change, yes=yes)


def _verbs(env: str) -> Any:
    """The compose environment's verbs (targets/compose_verbs.py), shared with the top-level status, logs, exec."""
    from shipyard.targets.compose_verbs import ComposeVerbs

    return ComposeVerbs(load_config(), env)


def _table(states: list[Any], title: str, http: Any = ()) -> None:
    from shipyard.targets.compose_verbs import show_table

    show_table(states, title, http)


def _confirm(question: str, yes: bool) -> None:
    from shipyard.errors import ShipyardError

    if yes:
        return
    if not sys.stdin.isatty():
        raise ShipyardError(f"{question} - refusing without confirmation", hint="add --yes to confirm")
    answer = input(f"{question} [y/N] ").strip().lower()
    if answer not in ("y", "yes"):
        raise ShipyardError("cancelled; nothing was changed")


@task(help={"images": "base and service images: 'public' (python, node, postgres, redis from Docker Hub), "
                      "'testbed' (the offline shipyard-base/* stand-ins) or 'auto' (testbed when built here)",
            "force": "overwrite an existing .env (its secrets are lost; refused while a data volume exists)",
            "env": ENV_HELP, "dry_run": DRY_HELP})
def init(c: Any, images: str = "auto", force: bool = False, env: str = "dev", dry_run: bool = False) -> None:
    """Write a first .env from .env.example: a random POSTGRES_PASSWORD and the images to use.

    Refuses when the stack's data volume already exists: its database keeps the password it was created with.
    """
    import secrets as random_secrets

    from shipyard.commands import docker as docker_cmd
    from shipyard.errors import ShipyardError
    from shipyard.run import LocalRunner
    from shipyard.run.redact import REDACTOR
    from shipyard.targets.dotenv import TESTBED_IMAGES, fill

    if images not in ("auto", "public", "testbed"):
        raise ShipyardError(f"--images must be auto, public or testbed, not {images!r}")
    config = load_config()
    target, example = config.root / ".env", config.root / ".env.example"
    if target.exists() and not force:
        _say(f".env already exists in {config.root}: left unchanged (--force overwrites it)")
        return
    if not example.is_file():
        raise ShipyardError(f"{example} is missing; cannot write .env")
    _refuse_next_to_data(env, force)
    if images == "auto":
        probe = LocalRunner().run(docker_cmd.image_exists(TESTBED_IMAGES["PYTHON_IMAGE"]), check=False, timeout=30)
        images = "testbed" if probe.ok else "public"
    password = random_secrets.token_urlsafe(24)
    REDACTOR.add(password)
    values = {"POSTGRES_PASSWORD": password, **(TESTBED_IMAGES if images == "testbed" else {})}
    if dry_run:
        _say(f"[local] would write {target} from .env.example with a random POSTGRES_PASSWORD and {images} images")
        return
    target.write_text(fill(example.read_text(encoding="utf-8"), values), encoding="utf-8")
    target.chmod(0o600)
    _say(f"wrote {target} (mode 600): random POSTGRES_PASSWORD, {images} images. Next: invoke docker.up")


def _refuse_next_to_data(env: str, force: bool) -> None:
    """A new password next to an existing data volume would lock the database out: refuse, with the way out."""
    from shipyard.errors import ShipyardError
    from shipyard.targets.compose import StaleDataVolume

    try:
        existing = _target(env, False).existing_volumes()
    except (ShipyardError, OSError) as exc:
        _say(f"warning: could not look for an existing data volume ({str(exc).splitlines()[0]}); if one exists,"
             " restore the .env that created it")
        return
    if existing:
        what = ".env was deleted or replaced" if not force else "--force would replace .env"
        volumes = f"data volume {existing[0]} already exists" if len(existing) == 1 else \
            f"data volumes {', '.join(existing)} already exist"
        raise StaleDataVolume(f"{volumes} with the password of an earlier .env; {what}, and a new password would"
                              " not open it: nothing written")


@task(help={"env": ENV_HELP, "build": "rebuild every image first (default: build only missing images)",
            "timeout": "seconds to wait for every service to become healthy (default 180)",
            "dry_run": DRY_HELP, "yes": YES_HELP}, default=True)
def up(c: Any, env: str = "dev", build: bool = False, timeout: int = 180, dry_run: bool = False,
       yes: bool = False) -> None:
    """Build what is missing, start the stack, wait until every service is healthy, print URLs and status."""
    target = _target(env, dry_run, needs_secrets=True, change="docker.up", yes=yes)
    states = target.up(timeout=timeout, build=build)
    if dry_run:
        return
    _table(states, f"{env}: every service healthy", target.services)
    for state in states:
        if state.url and state.service in target.services:
            _say(f"{state.service:<8} {state.url}")


@task(help={"env": ENV_HELP, "volumes": "also delete the named volumes (all data); asks first",
            "yes": "do not ask before deleting volumes (and approve, where the environment requires it)",
            "dry_run": DRY_HELP})
def down(c: Any, env: str = "dev", volumes: bool = False, yes: bool = False, dry_run: bool = False) -> None:
    """Stop and remove the stack's containers and network (data volumes are kept unless --volumes)."""
    target = _target(env, dry_run, change="docker.down", yes=yes)
    if volumes and not dry_run:
        _confirm(f"delete every volume of the '{env}' stack (PostgreSQL and Redis data)?", yes)
    target.down(volumes=volumes)
    _say(f"{env}: stopped{' and data volumes deleted' if volumes else ' (data volumes kept)'}")


@task(help={"service": "only this service (default: all)", "follow": "keep streaming new lines",
                                    "tail": "lines of history per container (default 200)", "env": ENV_HELP})
def logs(c: Any, service: str | None = None, follow: bool = False, tail: int = 200, env: str = "dev") -> None:
    """Show the stack's logs (secret values masked), optionally following them."""
    _verbs(env).logs(service=service, follow=follow, tail=tail)


@task(help={"env": ENV_HELP})
def ps(c: Any, env: str = "dev") -> None:
    """The stack's containers: state, health and URL."""
    _verbs(env).status()


@task(help={"service": "only these services, comma-separated (default: every service)",
                                    "allow_dirty": "build from uncommitted changes (the tag gets -dirty)",
                                    "env": "environment whose registry override applies (default: the project's)",
                                    "affected": "only services whose package (or a dependency) changed since --base",
                                    "base": "git ref for --affected (default origin/main, falling back to main)",
                                    "platform": "image platform (default: build.platform in shipyard.yaml,"
                                                " linux/amd64)",
                                    "dry_run": DRY_HELP})
def build(c: Any, service: str | None = None, allow_dirty: bool = False, env: str = "", affected: bool = False,
          base: str = "", platform: str = "", dry_run: bool = False) -> None:
    """Build release images tagged <registry>/<namespace>/<service>:<sha> (a failure names step, file, line)."""
    from shipyard.release import current
    from shipyard.run import LocalRunner
    from shipyard.targets.base import checked_platform
    from shipyard.targets.compose import build_release, select_services
    from shipyard.targets.progress import build_progress

    wanted = checked_platform(platform)
    config = load_config()
    release = current(LocalRunner(), cwd=str(config.root), allow_dirty=allow_dirty)
    services = config.services(env or None)
    registry = config.registry(env or None)
    names = select_services(services, [s.strip() for s in (service or "").split(",") if s.strip()])
    if affected:  # see MONOREPO.md: services map to workspace packages
        from shipyard.monorepo.session import affected_services

        changed, why = affected_services(config, LocalRunner(), base or None)
        _say(why)
        names = [name for name in names if name in changed]
        if not names:
            return
    run = runner(dry_run) if dry_run else LocalRunner(echo=build_progress)
    built = build_release(config.root, services, names, release, lambda name: release.image(registry, name), run,
                          environ=os.environ, project=config.project.project, settings=config.project.build,
                          platform=wanted, say=_say)
    for image in built:
        _say(f"{image.service:<8} {image.ref}")


@task(help={"service": "only this service (default: all)", "env": ENV_HELP,
                                    "dry_run": DRY_HELP, "yes": YES_HELP})
def restart(c: Any, service: str | None = None, env: str = "dev", dry_run: bool = False, yes: bool = False) -> None:
    """Restart containers and wait until they are healthy again (data is kept)."""
    target = _target(env, dry_run, needs_secrets=True, change="docker.restart", yes=yes)
    states = target.restart([service] if service else [])
    if not dry_run:
        _table(states, f"{env}: restarted {service or 'every service'}", target.services)


@task(help={"env": ENV_HELP, "volumes": "also delete data volumes; asks first",
            "yes": "do not ask (and approve, where the environment requires it)", "dry_run": DRY_HELP})
def clean(c: Any, env: str = "dev", volumes: bool = False, yes: bool = False, dry_run: bool = False) -> None:
    """Remove the stack's containers, network and locally built images (and dangling rebuild leftovers)."""
    target = _target(env, dry_run, change="docker.clean", yes=yes)
    if volumes and not dry_run:
        _confirm(f"delete every volume of the '{env}' stack (PostgreSQL and Redis data)?", yes)
    target.clean(volumes=volumes, project_label=load_config().project.project)
    _say(f"{env}: cleaned")


@task(positional=["service"], help={"service": "the service to open a shell in (for example api)",
                                    "env": ENV_HELP, "dry_run": DRY_HELP})
def shell(c: Any, service: str, env: str = "dev", dry_run: bool = False) -> None:
    """Open an interactive shell in a running service's container."""
    from invoke.exceptions import Exit

    target = _target(env, dry_run, needs_secrets=True)
    code = target.shell(service)
    if code:
        raise Exit(code=code)


@task(help={"api_url": "base URL of the api (default: http://127.0.0.1:$API_PORT, 8000)",
            "web_url": "base URL of the web front end (default: http://127.0.0.1:$WEB_PORT, 3000)",
            "browser": "also drive the page in headless Chromium (Debian's chromium + the 'browser' extra): "
                       "load it, add an item with the form, read the release in the footer",
            "release": "with --browser: the release the footer must show (default: what web's /api/health reports)",
            "screenshot": "with --browser: where to save the page's screenshot (default .artifacts/smoke/web.png)"})
def smoke(c: Any, api_url: str = "", web_url: str = "", browser: bool = False, release: str = "",
          screenshot: str = "") -> None:
    """Check a running stack end to end: health, readiness, an item written through the api shown by web."""
    from dataclasses import replace
    from pathlib import Path

    import httpx

    from shipyard.errors import ShipyardError
    from shipyard.targets.compose import compose_values
    from shipyard.targets.smoke import run_checks

    config = load_config()
    values = compose_values(config.root, os.environ)
    api_url = (api_url or f"http://127.0.0.1:{values.get('API_PORT', '8000')}").rstrip("/")
    web_url = (web_url or f"http://127.0.0.1:{values.get('WEB_PORT', '3000')}").rstrip("/")
    picture = Path(screenshot) if screenshot else config.root / ".artifacts" / "smoke" / "web.png"
    if browser:  # before anything runs: a missing browser is a failure with the install command, never a skip
        from shipyard.targets.browser import preflight

        preflight()
    with httpx.Client(timeout=30) as client:
        checks = run_checks(api_url, web_url, client)
    if browser:
        from shipyard.targets.browser import run_browser_checks

        checks += [replace(check, name=f"browser: {check.name}")
                   for check in run_browser_checks(web_url, picture, release=release or None)]
    for check in checks:
        _say(f"{'ok  ' if check.ok else 'FAIL'} {check.name:<29} {check.seconds * 1000:6.0f} ms  {check.detail}")
    failed = [check.name for check in checks if not check.ok]
    shot = next((check.detail for check in checks if check.name == "browser: screenshot" and check.ok), "")
    if failed:
        raise ShipyardError(f"smoke failed: {', '.join(failed)}",
                            hint="invoke docker.ps; invoke docker.logs" + (f"; look at {shot}" if shot else ""))


ns = Collection("docker", init, up, smoke, down, logs, ps, build, restart, clean, shell)
ns.default = "up"
