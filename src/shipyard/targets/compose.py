"""The compose target: the whole stack on this machine's Docker engine, health-gated, through run/ only.

Facts come from `docker compose config/ps` and `docker image inspect`; every change is a `docker compose` or
`docker build` command; build failures become one line naming the step, the file and the line.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shipyard.commands import compose as compose_cmd
from shipyard.commands import docker as docker_cmd
from shipyard.config.loader import Config
from shipyard.config.schema import Build, ComposeEnvironment, Service
from shipyard.errors import ShipyardError
from shipyard.facts import build as build_facts
from shipyard.facts import compose as facts
from shipyard.release import Release
from shipyard.run.base import CommandError, Runner, attached
from shipyard.run.redact import REDACTOR
from shipyard.targets.dotenv import DotenvError, parse_dotenv

Say = Callable[[str], None]
SKIP_DIRS = {".git", "node_modules", ".next", ".venv", "__pycache__", ".nox", ".shipyard"}
LAST_LINES = 40  # of a service that would not start, shown by `docker.up`


class BuildFailed(ShipyardError):
    """An image did not build; the message is the failing step, file, line and error (one line)."""

    def __init__(self, service: str, failure: build_facts.BuildFailure, hint: str) -> None:
        super().__init__(failure.describe(service), hint=hint)
        self.service = service
        self.failure = failure


#: The way out when a data volume holds another password than .env (said by docker.init and docker.up alike).
STALE_DATA_HINT = ("restore the .env that created the data (it holds the old POSTGRES_PASSWORD), or start afresh"
                       " with `invoke docker.down --volumes` (deletes the database and cache data)")


class StaleDataVolume(ShipyardError):
    """A new password next to a data volume initialised with another one."""

    def __init__(self, message: str) -> None:
        super().__init__(message, hint=STALE_DATA_HINT)


class StackUnhealthy(ShipyardError):
    def __init__(self, services: list[str], hint: str) -> None:
        super().__init__(f"not healthy: {', '.join(services)} (last log lines above)", hint=hint)
        self.services = services


def locate(root: Path, printed: str, service: str | None = None) -> str:
    """Map a path printed inside a build container to the repository file it came from (best effort)."""
    parts = [p for p in printed.replace("\\", "/").split("/") if p not in ("", ".")]
    candidates: list[Path] = []
    for start in range(len(parts)):
        suffix = Path(*parts[start:])
        direct = root / suffix
        if direct.is_file():
            candidates.append(direct)
        for folder in ("apps", "packages"):
            base = root / folder
            if base.is_dir():
                candidates += [p / suffix for p in sorted(base.iterdir())
                               if p.name not in SKIP_DIRS and (p / suffix).is_file()]
        if candidates:
            break
    if not candidates:
        return printed
    preferred = [c for c in candidates if service and f"/{service}/" in f"/{c.relative_to(root).as_posix()}"]
    return (preferred or candidates)[0].relative_to(root).as_posix()


def compose_values(root: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The variables Compose interpolates with: the project's `.env` (read as Compose reads it), overridden by the
    environment."""
    path = root / ".env"
    if not path.is_file():
        return dict(environ)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DotenvError(f"{path}: not UTF-8 text (byte {exc.start})", hint="save the file as UTF-8") from None
    return {**parse_dotenv(text, environ, source=str(path)), **environ}


@dataclass
class ComposeTarget:
    """One `target: compose` environment of shipyard.yaml, bound to a runner."""

    env_name: str
    root: Path
    files: list[str]
    project: str | None
    services: dict[str, Service]
    secret_envs: list[str]
    runner: Runner
    probe: Runner  # read-only facts; the real engine even during a dry run
    say: Say = print
    build_echo: Runner | None = None
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Config, env_name: str, runner: Runner, *, probe: Runner | None = None,
                    say: Say = print, build_echo: Runner | None = None) -> ComposeTarget:
        env = config.environment(env_name)
        if not isinstance(env, ComposeEnvironment):
            raise ShipyardError(f"environment '{env_name}' has target {env.target}; docker.* drives `target: compose`",
                                hint="pick a compose environment with --env (for example --env dev)")
        root = config.root
        for file in env.compose_files:
            if not (root / file).is_file():
                raise ShipyardError(f"environment '{env_name}': compose file {file} not found in {root}",
                                    hint=f"fix environments.{env_name}.compose_files in {config.path.name}")
        secret_envs = [ref.env for ref in config.project.secrets.values() if ref.env]
        return cls(env_name=env_name, root=root, files=list(env.compose_files), project=env.project_name,
                   services=config.services(env_name), secret_envs=secret_envs, runner=runner,
                   probe=probe or runner, say=say, build_echo=build_echo)

    # -- plumbing ---------------------------------------------------------------------------------------

    def register_secrets(self, environ: Mapping[str, str]) -> None:
        """Mask every declared secret's value (from the environment or .env) in all output from now on."""
        values = compose_values(self.root, environ)
        for name in self.secret_envs:
            value = values.get(name)
            if value and len(value) >= 4:
                REDACTOR.add(value)

    def allow_missing_secrets(self, environ: Mapping[str, str]) -> None:
        """Commands that only stop, list or read (down, ps, logs, clean) never use secret values, but Compose
        interpolates every `${VAR:?}` anyway: give unset ones a placeholder so that they still work."""
        known = compose_values(self.root, environ)
        for name in self.secret_envs:
            if not known.get(name):
                self.env.setdefault(name, "unset-not-needed-for-this-command")

    def _run(self, argv: Sequence[str], *, runner: Runner | None = None, timeout: float | None = 600,
             check: bool = True, stream: bool = False) -> str:
        result = (runner or self.runner).run(argv, cwd=str(self.root), timeout=timeout, check=check,
                                             env=self.env, stream=stream)
        return result.stdout

    def _compose_error(self, exc: CommandError) -> ShipyardError:
        last = exc.stderr_tail.splitlines()[-1] if exc.stderr_tail else str(exc)
        return ShipyardError(f"docker compose failed: {last.strip()}",
                             hint="check the compose files and .env (see .env.example)")

    # -- facts ------------------------------------------------------------------------------------------

    def status(self) -> list[facts.ServiceState]:
        return facts.parse_ps(self._run(compose_cmd.ps(self.files, self.project), runner=self.probe, timeout=60))

    def resolved(self) -> dict[str, Any]:
        try:
            return facts.parse_config(self._run(compose_cmd.config(self.files, self.project), runner=self.probe,
                                                timeout=60))
        except CommandError as exc:
            raise self._compose_error(exc) from None

    def compose_services(self) -> list[str]:
        return facts.services(self.resolved())

    def existing_volumes(self) -> list[str]:
        """The project's named volumes that already exist on the engine (data from an earlier `docker.up`)."""
        wanted = facts.volume_names(self.resolved())
        listed = self._run(docker_cmd.volume_names(), runner=self.probe, timeout=60).split()
        return [name for name in wanted if name in listed]

    def missing_images(self) -> list[str]:
        """Services that Compose builds and whose image is not on the engine yet."""
        built = facts.built_images(self.resolved())
        return [svc for svc, image in built.items()
                if not self.probe.run(docker_cmd.image_exists(image), timeout=60, check=False).ok]

    # -- actions ----------------------------------------------------------------------------------------

    def compose_build(self, services: Sequence[str]) -> None:
        """Build dev images one service at a time, so that a failure names its service."""
        for service in services:
            self.say(f"building {service} ...")
            started = time.monotonic()
            run_build(self.root, service, compose_cmd.build(self.files, self.project, [service]),
                      self.build_echo or self.runner, retry=f"invoke docker.up --env {self.env_name}", env=self.env)
            self.say(f"built {service} in {time.monotonic() - started:.1f}s")

    def up(self, *, timeout: int = 180, build: bool = False) -> list[facts.ServiceState]:
        wanted = self.compose_services() if not self.runner.dry_run else sorted(self.services)
        todo = sorted(self.services) if build else (
            self.missing_images() if not self.runner.dry_run else sorted(self.services))
        if todo:
            self.compose_build(todo)
        return self._start(self.files, wanted, timeout)

    def up_release(self, override: str, *, timeout: int = 180) -> list[facts.ServiceState]:
        """`compose up --wait` with `override` (commands.compose.release_override: each built service from its
        release image) over the environment's files: nothing is built, health-gated like `up`."""
        wanted = self.compose_services() if not self.runner.dry_run else sorted(self.services)
        return self._start([*self.files, override], wanted, timeout)

    def _start(self, files: list[str], wanted: list[str], timeout: int) -> list[facts.ServiceState]:
        self.say(f"starting {', '.join(wanted)}; waiting until healthy (timeout {timeout}s)")
        started = time.monotonic()
        try:
            with self.watch_conditions(wanted, started):
                self._run(compose_cmd.up(files, self.project, wait=True, wait_timeout=timeout),
                          timeout=timeout + 120)
        except CommandError as exc:
            if self.runner.dry_run:
                raise
            self.explain_unhealthy(wanted, exc)
        self.say(f"healthy in {time.monotonic() - started:.1f}s")
        return [] if self.runner.dry_run else self.status()

    @contextmanager
    def watch_conditions(self, wanted: Sequence[str], started: float, every: float = 1.0,
                         live: bool | None = None) -> Iterator[None]:
        """While `compose up --wait` runs: one line each time a service's condition changes (created, starting,
        healthy, exited(1)...), so a long wait is never silent; on a terminal, a live panel also shows each
        service still on its way and for how long. Reads only; a failed read is skipped."""
        if self.runner.dry_run:
            yield
            return
        from shipyard.targets.progress import Progress

        done = threading.Event()
        panel = Progress(live=True) if (sys.stdout.isatty() if live is None else live) else None

        def watch() -> None:
            seen: dict[str, str] = {}
            while not done.wait(every):
                try:
                    states = self.status()
                except (CommandError, ShipyardError):
                    continue
                for state in states:
                    if state.service in wanted and seen.get(state.service) != state.condition:
                        seen[state.service] = state.condition
                        took = time.monotonic() - started
                        if panel is None:
                            self.say(f"  {state.service}: {state.condition} ({took:.1f}s)")
                        elif done.is_set():  # the wait is over and the panel gone: nothing draws again
                            return
                        elif state.condition in ("created", "starting"):
                            panel.begin(state.service, "up", state.condition)
                        else:  # healthy, running, exited(1), unhealthy...: a line that stays
                            panel.step(state.service, "up", state.condition, took)

        thread = threading.Thread(target=watch, name="compose-conditions", daemon=True)
        thread.start()
        try:
            yield
        finally:
            done.set()
            thread.join(timeout=every + 60)
            if panel is not None:
                panel.close()

    def explain_unhealthy(self, wanted: list[str], exc: CommandError) -> None:
        states = self.status()
        bad = facts.not_ready(states, wanted)
        if not bad:
            raise self._compose_error(exc)
        # the database says "password authentication failed" in its own log, even when its clients only retry
        refused = facts.auth_failure(self._run(compose_cmd.logs(self.files, self.project, wanted, tail=50),
                                               runner=self.probe, timeout=60, check=False))
        for service in bad:
            logs = self._settled_logs(service, LAST_LINES)
            condition = next((s.condition for s in states if s.service == service), "not created")
            self.say(f"--- {service}: {condition}; last log lines:")
            for line in REDACTOR(logs).splitlines()[-LAST_LINES:]:
                self.say(f"  {line}")
        if refused:
            raise StaleDataVolume(f"not healthy: {', '.join(bad)}: the database refused the password in .env; its"
                                  " data volume was initialised with another one (a new or changed .env)")
        raise StackUnhealthy(bad, hint=f"invoke docker.logs {bad[0]}, fix the cause, then invoke docker.up")

    def _settled_logs(self, service: str, lines: int, *, reads: int = 5, pause: float = 0.2) -> str:
        """The service's last lines once two reads agree: a crash-looping container may be writing its next
        traceback at the moment of a single read, which then ends mid-trace and hides the error line."""
        argv = compose_cmd.logs(self.files, self.project, [service], tail=lines)
        logs = self._run(argv, runner=self.probe, timeout=60, check=False)
        for _ in range(reads - 1):
            time.sleep(pause)
            again = self._run(argv, runner=self.probe, timeout=60, check=False)
            if again == logs:
                break
            logs = again
        return logs

    def down(self, *, volumes: bool = False) -> None:
        self._run(compose_cmd.down(self.files, self.project, volumes=volumes), timeout=300)

    def restart(self, services: Sequence[str] = (), *, timeout: int = 120) -> list[facts.ServiceState]:
        self._run(compose_cmd.restart(self.files, self.project, services), timeout=300)
        if self.runner.dry_run:
            return []
        return self.wait_ready(list(services) or self.compose_services(), timeout=timeout)

    def wait_ready(self, services: list[str], *, timeout: float) -> list[facts.ServiceState]:
        deadline = time.monotonic() + timeout
        while True:
            states = self.status()
            bad = facts.not_ready(states, services)
            if not bad:
                return states
            if time.monotonic() > deadline:
                raise StackUnhealthy(bad, hint=f"invoke docker.logs {bad[0]}")
            time.sleep(0.5)

    def logs(self, services: Sequence[str] = (), *, follow: bool = False, tail: int | None = None) -> str:
        return self._run(compose_cmd.logs(self.files, self.project, services, tail=tail, follow=follow),
                         timeout=None if follow else 120, stream=True)

    def clean(self, *, volumes: bool = False, project_label: str | None = None) -> None:
        """Containers, networks and the images Compose built (and their volumes with volumes=True)."""
        self._run(compose_cmd.down(self.files, self.project, volumes=volumes, rmi="local"), timeout=300)
        if project_label:
            self._run(docker_cmd.image_prune({"label": f"dev.shipyard.project={project_label}"}), timeout=300)

    def shell(self, service: str, command: Sequence[str] = (), *, tty: bool = True) -> int:
        """Run `command` (default: a shell) in the service's running container, attached to this terminal (`tty`:
        with a pseudo-terminal); its exit code."""
        argv = compose_cmd.exec_(self.files, service,
                                 list(command) or ["sh", "-c", "command -v bash >/dev/null && exec bash || exec sh"],
                                 self.project, tty=tty)
        return attached(self.runner, argv, cwd=str(self.root), env=self.env)


def run_build(root: Path, service: str, argv: Sequence[str], runner: Runner, *, retry: str,
              env: Mapping[str, str] | None = None) -> None:
    """Run a build (streamed); on failure raise BuildFailed from the whole output, not just its tail."""
    result = runner.run(argv, cwd=str(root), timeout=3600, stream=True, check=False, env=env)
    if result.ok:
        return
    failure = build_facts.parse_failure(result.stdout + "\n" + (result.stderr if result.stderr != result.stdout
                                                                 else ""))
    if failure.file:
        failure = build_facts.BuildFailure(**{**failure.__dict__, "file": locate(root, failure.file, service)})
    raise BuildFailed(service, failure, hint=f"fix it, then run `{retry}`")


# -- release images (docker.build) -------------------------------------------------------------------------

def select_services(services: Mapping[str, Service], requested: Sequence[str]) -> list[str]:
    """Which services to build: the requested ones (validated), or all. `--affected` narrows this list."""
    if not requested:
        return sorted(services)
    unknown = [name for name in requested if name not in services]
    if unknown:
        raise ShipyardError(f"unknown service(s): {', '.join(unknown)} (services: {', '.join(sorted(services))})",
                            hint="run `invoke docker.build` without arguments to build every service")
    return list(dict.fromkeys(requested))


def build_args(root: Path, service: Service, release: Release, environ: Mapping[str, str],
               defaults: Mapping[str, str] | None = None) -> dict[str, str]:
    """GIT_SHA (the release's tag: the version the running app reports, the same string as the image tag, the
    Kubernetes ConfigMap's APP_VERSION and the ledgers; the full SHA goes in the OCI revision label) and
    BUILD_DATE from the release, and every other ARG the Dockerfile declares that is set in
    the environment or .env (base images such as PYTHON_IMAGE/NODE_IMAGE, exactly as Compose passes them),
    falling back to `defaults` (shipyard.yaml's build.args)."""
    dockerfile = (root / service.dockerfile).read_text(encoding="utf-8")
    values = {**(defaults or {}), **{k: v for k, v in compose_values(root, environ).items() if v}}
    args = {name: values[name] for name in build_facts.declared_args(dockerfile)
            if values.get(name) and name not in ("GIT_SHA", "BUILD_DATE")}
    args["GIT_SHA"] = release.tag
    args["BUILD_DATE"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return args


@dataclass(frozen=True)
class BuiltImage:
    service: str
    ref: str
    seconds: float


def build_image(root: Path, name: str, service: Service, ref: str, release: Release, runner: Runner, *,
                environ: Mapping[str, str], project: str, settings: Build | None = None,
                extra_args: Mapping[str, str] | None = None, platform: str | None = None, retry: str,
                say: Say = print) -> BuiltImage:
    """The one image build of Shipyard (docker.build and deploy): build args from shipyard.yaml's build.args,
    .env and the environment (in that order of precedence, lowest first) and `extra_args` (--build-arg), the
    release stamp (GIT_SHA, OCI labels), the platform (build.platform unless `platform`), progress per step, a
    failure named by step, file and line, and an image of another platform refused."""
    settings = settings or Build()
    platform = platform or settings.platform
    labels = {**release.labels(), "dev.shipyard.project": project, "dev.shipyard.service": name}
    args = {**build_args(root, service, release, environ, settings.args), **(extra_args or {})}
    argv = docker_cmd.build(service.context, service.dockerfile, [ref], build_args=args, labels=labels,
                            platform=platform)
    say(f"building {ref} for {platform} ...")
    started = time.monotonic()
    run_build(root, name, argv, runner, retry=retry)
    if not runner.dry_run:
        built = runner.run(docker_cmd.image_platform(ref), timeout=60).stdout.strip()
        if build_facts.platform_mismatch(built, platform):
            raise ShipyardError(f"{ref} was built for {built}, not {platform}: a base image of another platform"
                                " was used from this machine's image store",
                                hint=f"pull or build the base images for {platform} (or set build.platform in"
                                     " shipyard.yaml, or --platform, to the hosts' platform)")
    took = time.monotonic() - started
    say(f"built {ref} in {took:.1f}s")
    return BuiltImage(name, ref, took)


def build_release(root: Path, services: Mapping[str, Service], names: Sequence[str], release: Release,
                  image: Callable[[str], str], runner: Runner, *, environ: Mapping[str, str],
                  project: str, settings: Build | None = None, platform: str | None = None,
                  say: Say = print) -> list[BuiltImage]:
    return [build_image(root, name, services[name], image(name), release, runner, environ=environ, project=project,
                        settings=settings, platform=platform, retry=f"invoke docker.build --service {name}", say=say)
            for name in names]
