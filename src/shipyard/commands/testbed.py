"""docker argv the test bed needs beyond commands/docker.py: import a rootfs, run an SSH "VM", volumes, ports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Argv = list[str]

#: What a nested Docker engine needs when `--privileged` is not available (see docs/TESTBED.md).
NESTED_DOCKER_FLAGS: tuple[str, ...] = (
    "--cap-add",
    "ALL",
    "--cap-drop",
    "SYS_RESOURCE",
    "--security-opt",
    "seccomp=unconfined",
    "--security-opt",
    "apparmor=unconfined",
    "--security-opt",
    "systempaths=unconfined",
    "--device-cgroup-rule",
    "a *:* rwm",
    "--tmpfs",
    "/run",
    "--tmpfs",
    "/tmp",
)


def import_rootfs(archive: str, ref: str, *, changes: Sequence[str] = ()) -> Argv:
    argv = ["docker", "import"]
    for change in changes:
        argv += ["--change", change]
    return [*argv, archive, ref]


def image_label(ref: str, label: str) -> Argv:
    """Prints the label's value ('' when unset); fails when the image does not exist."""
    return ["docker", "image", "inspect", "--format", f'{{{{index .Config.Labels "{label}"}}}}', ref]


def image_summary(ref: str) -> Argv:
    return ["docker", "image", "inspect", "--format", "{{.Id}} {{.Size}}", ref]


def run_vm(
    image: str,
    name: str,
    *,
    ssh_port: int | None,
    volume: str,
    authorized_keys: str,
    labels: Mapping[str, str],
    env: Mapping[str, str] | None = None,
    ports: Sequence[str] = (),
    network: str | None = None,
    hostname: str | None = None,
) -> Argv:
    """A detached SSH host with room for its own Docker engine; sshd published on 127.0.0.1 only."""
    published = f"127.0.0.1:{ssh_port}:22" if ssh_port else "127.0.0.1::22"
    argv = [
        "docker",
        "run",
        "--detach",
        "--init",
        "--name",
        name,
        "--hostname",
        hostname or name,
        *NESTED_DOCKER_FLAGS,
        "--volume",
        f"{volume}:/var/lib/docker",
        "--volume",
        f"{authorized_keys}:/etc/shipyard/authorized_keys:ro",
        "--publish",
        published,
    ]
    for port in ports:
        argv += ["--publish", port]
    if network:
        argv += ["--network", network]
    for key in sorted(env or {}):
        argv += ["--env", f"{key}={(env or {})[key]}"]
    for key, value in sorted(labels.items()):
        argv += ["--label", f"{key}={value}"]
    return [*argv, image]


def address(name: str) -> Argv:
    """The container's IPv4 address on the default bridge (where sandbox VMs reach each other)."""
    return ["docker", "inspect", "--type", "container", "--format", "{{.NetworkSettings.IPAddress}}", name]


def port(name: str, container_port: str = "22/tcp") -> Argv:
    return ["docker", "port", name, container_port]


def containers_with_label(label: str) -> Argv:
    return [
        "docker",
        "ps",
        "--all",
        "--no-trunc",
        "--filter",
        f"label={label}",
        "--format",
        "{{.Names}}\t{{.State}}\t{{.Ports}}",
    ]


def remove_container(name: str) -> Argv:
    return ["docker", "rm", "--force", "--volumes", name]


def volume_remove(name: str) -> Argv:
    return ["docker", "volume", "rm", "--force", name]


def version() -> Argv:
    return ["docker", "version", "--format", "{{.Server.Version}}"]


def compose_version() -> Argv:
    return ["docker", "compose", "version", "--short"]


def install_file(name: str, dest: str, mode: str = "0755") -> Argv:
    """Replace `dest` inside the container `name` with stdin (atomically, as root)."""
    return ["docker", "exec", "--interactive", name, "sh", "-c",
            'cat > "$1.new" && chmod "$2" "$1.new" && mv "$1.new" "$1"', "shipyard-install", dest, mode]


def host_setup(name: str, script: str, *, user: str, authorized_keys: str) -> Argv:
    """Run the host-setup script inside the VM `name` as root, with the arguments cloud-init gives it."""
    return ["docker", "exec", "--user", "0", name, script, "--user", user, "--authorized-keys", authorized_keys]
