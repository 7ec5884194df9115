"""argv builders for the docker CLI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shipyard import imageref

Argv = list[str]


def build(context: str, dockerfile: str, tags: Sequence[str], *, build_args: Mapping[str, str] | None = None,
          labels: Mapping[str, str] | None = None, target: str | None = None, pull: bool = False,
          platform: str | None = None) -> Argv:
    """Classic `docker build` (works with daemons that have no buildx); intermediate containers removed."""
    argv = ["docker", "build", "--force-rm", "-f", dockerfile]
    if platform:
        argv += ["--platform", platform]
    for tag in tags:
        argv += ["-t", tag]
    for key, value in sorted((build_args or {}).items()):
        argv += ["--build-arg", f"{key}={value}"]
    for key, value in sorted((labels or {}).items()):
        argv += ["--label", f"{key}={value}"]
    if target:
        argv += ["--target", target]
    if pull:
        argv.append("--pull")
    argv.append(context)
    return argv


def tag(source: str, target: str) -> Argv:
    return ["docker", "tag", source, target]


def _docker(config: str | None) -> Argv:
    """`docker`, or `docker --config DIR` to use the registry credentials stored in DIR/config.json."""
    return ["docker", "--config", config] if config else ["docker"]


def push(ref: str, *, config: str | None = None) -> Argv:
    return [*_docker(config), "push", ref]


def pull(ref: str, *, config: str | None = None) -> Argv:
    return [*_docker(config), "pull", ref]


def pull_pinned(ref: str, tag: str, *, config: str | None = None) -> Argv:
    """Pull `ref`; when it is pinned by digest, also give it its release tag locally (retention and `docker images`
    read tags), so the tag on the host always names the digest that was deployed, whatever the registry's tag
    says now."""
    if imageref.digest_of(ref) is None:
        return pull(ref, config=config)
    return ["sh", "-c", 'set -e; ref=$1; tagged=$2; shift 2; "$@" "$ref"; docker tag "$ref" "$tagged"',
            "shipyard-pull", ref, imageref.retagged(ref, tag), *_docker(config), "pull"]


def login(address: str, username: str, config: str) -> Argv:
    """Log in with the password on stdin (never in argv); credentials land in `config`/config.json."""
    return [*_docker(config), "login", "--username", username, "--password-stdin", address]


def image_platform(ref: str) -> Argv:
    """os/architecture[/variant] of a local image, one line."""
    return ["docker", "image", "inspect", "--format", "{{.Os}}/{{.Architecture}}{{if .Variant}}/{{.Variant}}{{end}}",
            ref]


def image_exists(ref: str) -> Argv:
    return ["docker", "image", "inspect", "--format", "{{.Id}}", ref]


def images_present(refs: Sequence[str]) -> Argv:
    """One line per image: `yes <ref>` when the host has it, `no <ref>` when not (one round trip for all)."""
    script = 'for i in "$@"; do if docker image inspect "$i" >/dev/null 2>&1; then echo "yes $i"; ' \
             'else echo "no $i"; fi; done'
    return ["sh", "-c", script, "shipyard-images", *refs]


def stop_and_remove(name: str, timeout: int = 10) -> Argv:
    """Stop the container (`timeout` seconds to exit) and remove it; succeeds when it is already gone."""
    script = f'docker stop --time {int(timeout)} "$1" >/dev/null 2>&1; docker rm --force "$1" >/dev/null 2>&1; true'
    return ["sh", "-c", script, "shipyard-retire", name]


def remove_image(ref: str) -> Argv:
    return ["docker", "image", "rm", ref]


#: Every container Shipyard starts on a host rotates its JSON log (10 MB x 5), so no log fills a droplet's disk.
HOST_LOG_OPTS = ("--log-driver", "json-file", "--log-opt", "max-size=10m", "--log-opt", "max-file=5")


def run(image: str, *, name: str | None = None, detach: bool = True, network: str | None = None,
        env: Mapping[str, str] | None = None, env_file: str | None = None,
        ports: Sequence[str] = (), labels: Mapping[str, str] | None = None,
        restart: str | None = None, init: bool = True, command: Sequence[str] = (),
        log_opts: Sequence[str] = ()) -> Argv:
    argv = ["docker", "run"]
    if detach:
        argv.append("--detach")
    if name:
        argv += ["--name", name]
    if network:
        argv += ["--network", network]
    if init:
        argv.append("--init")
    if restart:
        argv += ["--restart", restart]
    argv += list(log_opts)
    for key in sorted(env or {}):
        argv += ["--env", f"{key}={(env or {})[key]}"]
    if env_file:
        argv += ["--env-file", env_file]
    for port in ports:
        argv += ["--publish", port]
    for key, value in sorted((labels or {}).items()):
        argv += ["--label", f"{key}={value}"]
    argv.append(image)
    argv += list(command)
    return argv


def stop(name: str, timeout: int = 10) -> Argv:
    return ["docker", "stop", "--time", str(timeout), name]


def start(name: str) -> Argv:
    return ["docker", "start", name]


def rm(name: str, force: bool = False) -> Argv:
    return ["docker", "rm", *(["--force"] if force else []), name]


def ps(filters: Mapping[str, str] | None = None, all: bool = True) -> Argv:
    argv = ["docker", "ps", "--no-trunc", "--format", "{{json .}}"]
    if all:
        argv.append("--all")
    for key, value in sorted((filters or {}).items()):
        argv += ["--filter", f"{key}={value}"]
    return argv


def inspect(name: str) -> Argv:
    return ["docker", "inspect", name]


def logs(name: str, tail: int | None = None, follow: bool = False, since: str | None = None) -> Argv:
    argv = ["docker", "logs"]
    if tail is not None:
        argv += ["--tail", str(tail)]
    if since:
        argv += ["--since", since]
    if follow:
        argv.append("--follow")
    argv.append(name)
    return argv


def exec_(name: str, command: Sequence[str], *, interactive: bool = False) -> Argv:
    return ["docker", "exec", *(["-it"] if interactive else []), name, *command]


def history(ref: str) -> Argv:
    return ["docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", ref]


def network_create(name: str) -> Argv:
    return ["docker", "network", "create", name]


def info() -> Argv:
    return ["docker", "info", "--format", "{{.ServerVersion}}"]


def image_prune(filters: Mapping[str, str] | None = None) -> Argv:
    """Remove dangling images (matching the label filters)."""
    argv = ["docker", "image", "prune", "--force"]
    for key, value in sorted((filters or {}).items()):
        argv += ["--filter", f"{key}={value}"]
    return argv



def volume_names() -> Argv:
    """Every volume on the engine, one name per line."""
    return ["docker", "volume", "ls", "--format", "{{.Name}}"]
