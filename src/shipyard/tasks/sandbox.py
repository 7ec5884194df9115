"""`sandbox`: local "droplets" to rehearse deploys on: VMs with sshd and their own Docker engine, on 127.0.0.1.

    invoke sandbox.up --hosts 3     # start VMs, write the `sandbox` environment, set the hosts up
    invoke deploy --env sandbox     # then every deploy task works against them
    invoke sandbox.status / sandbox.down
"""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection

from shipyard.tasks._base import load_config, task


@task(help={"hosts": "how many VMs (1 to 8, default 1); extra ones from an earlier up are removed",
            "setup": "also run deploy.setup on them (default on; --no-setup to skip)",
            "health_timeout": "the sandbox environment's health timeout in seconds (default 60)",
            "watch_window": "the sandbox environment's watch window in seconds (default 5)",
            "like": "copy the accessories of this environment, with the test bed's images (default: staging,"
                    " when there is one; '' for none)",
            "registry": "private (default): the sandbox's own registry on 127.0.0.1:5443, TLS with the sandbox CA and"
                        " htpasswd auth, like DOCR/GHCR; anonymous: the test bed's plain-HTTP 127.0.0.1:5000"})
def up(c: Any, hosts: int = 1, setup: bool = True, health_timeout: float = 60.0, watch_window: float = 5.0,
       like: str | None = None, registry: str = "private") -> None:
    """Start N local VMs and a registry they pull from; write the `sandbox` environment (.shipyard/sandbox.yaml)."""
    from shipyard.config.schema import VmEnvironment
    from shipyard.sandbox import vms

    config = load_config()
    envs = config.project.environments
    like = like if like is not None else ("staging" if "staging" in envs else "")
    model = envs.get(like) if like else None
    if like and not isinstance(model, VmEnvironment):
        from shipyard.errors import ShipyardError

        vm_envs = [n for n, e in envs.items() if isinstance(e, VmEnvironment)]
        raise ShipyardError(f"--like {like}: not a `target: vm` environment of {config.path.name}",
                            hint=f"pick one of: {', '.join(vm_envs) or 'none'} (or --like '' for no accessories)")
    accessories = {name: acc.model_dump() for name, acc in model.accessories.items()} \
        if isinstance(model, VmEnvironment) else {}
    if registry not in ("private", "anonymous"):
        from shipyard.errors import ShipyardError

        raise ShipyardError(f"--registry {registry}: expected private or anonymous")
    vms.up(config.root, config.project.project, hosts, health_timeout=health_timeout, watch_window=watch_window,
           accessories=accessories, private_registry=registry == "private")
    if setup:  # deploy.setup on the VMs, with the `sandbox` environment just written
        from shipyard.sandbox.overlay import with_sandbox
        from shipyard.targets.vm.verbs import vm_verbs

        vm_verbs(with_sandbox(load_config()), "sandbox").setup()


@task
def status(c: Any) -> None:
    """List the sandbox VMs, their SSH and proxy ports."""
    from shipyard.sandbox import vms

    config = load_config()
    state = vms.SandboxState.load(config.root)
    rows = vms.status(config.root, config.project.project)
    if not rows:
        print("sandbox: no VMs (run `invoke sandbox.up`)")
    ports = {vm.name: vm for vm in state.vms} if state else {}
    for name, st, _ in rows:
        vm = ports.get(name)
        https = f", https://127.0.0.1:{vm.https_port}/" if vm and vm.https_port else ""
        where = f"ssh 127.0.0.1:{vm.ssh_port}, proxy http://127.0.0.1:{vm.http_port}/{https}" if vm else \
            "not in the env"
        print(f"{name:<32} {st:<10} {where}")


@task
def down(c: Any) -> None:
    """Remove the sandbox VMs (and their Docker data) and the generated `sandbox` environment."""
    from shipyard.sandbox import vms

    config = load_config()
    vms.down(config.root, config.project.project)


ns = Collection("sandbox", up, status, down)
