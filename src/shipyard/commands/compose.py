"""argv builders for the Compose v2 plugin (`docker compose`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Argv = list[str]


def base(files: Sequence[str], project: str | None = None, env_file: str | None = None) -> Argv:
    argv = ["docker", "compose"]
    if project:
        argv += ["--project-name", project]
    for file in files:
        argv += ["--file", file]
    if env_file:
        argv += ["--env-file", env_file]
    return argv


def up(files: Sequence[str], project: str | None = None, *, services: Sequence[str] = (), build: bool = False,
       wait: bool = True, wait_timeout: int | None = None, env_file: str | None = None) -> Argv:
    argv = [*base(files, project, env_file), "up", "--detach"]
    if build:
        argv.append("--build")
    if wait:
        argv.append("--wait")
        if wait_timeout is not None:
            argv += ["--wait-timeout", str(wait_timeout)]
    return argv + list(services)


def release_override(images: Mapping[str, str]) -> str:
    """A Compose file that runs each service from its release image (a pinned reference) instead of building it:
    `build` is reset, so `up` never builds the working tree for these services. JSON is YAML."""
    import json

    lines = ["services:"]
    for service, image in sorted(images.items()):
        lines += [f"  {json.dumps(service)}:", f"    image: {json.dumps(image)}", "    build: !reset null"]
    return "\n".join(lines) + "\n"


def down(files: Sequence[str], project: str | None = None, *, volumes: bool = False,
         remove_orphans: bool = True, rmi: str | None = None) -> Argv:
    argv = [*base(files, project), "down"]
    if volumes:
        argv.append("--volumes")
    if rmi:
        argv += ["--rmi", rmi]
    if remove_orphans:
        argv.append("--remove-orphans")
    return argv


def build(files: Sequence[str], project: str | None = None, services: Sequence[str] = ()) -> Argv:
    return [*base(files, project), "build", *services]


def ps(files: Sequence[str], project: str | None = None) -> Argv:
    return [*base(files, project), "ps", "--all", "--format", "json"]


def logs(files: Sequence[str], project: str | None = None, services: Sequence[str] = (), *,
         tail: int | None = None, follow: bool = False) -> Argv:
    argv = [*base(files, project), "logs", "--no-color"]
    if tail is not None:
        argv += ["--tail", str(tail)]
    if follow:
        argv.append("--follow")
    return argv + list(services)


def restart(files: Sequence[str], project: str | None = None, services: Sequence[str] = ()) -> Argv:
    return [*base(files, project), "restart", *services]


def exec_(files: Sequence[str], service: str, command: Sequence[str], project: str | None = None,
          tty: bool = True) -> Argv:
    return [*base(files, project), "exec", *([] if tty else ["-T"]), service, *command]


def version() -> Argv:
    return ["docker", "compose", "version", "--short"]


def config(files: Sequence[str], project: str | None = None, *, what: str = "json") -> Argv:
    """`compose config`: the resolved project as JSON (`what="json"`), or `images`/`services` one per line."""
    argv = [*base(files, project), "config"]
    return argv + (["--format", "json"] if what == "json" else [f"--{what}"])
