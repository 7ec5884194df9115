"""`deploy.setup`: make fresh VMs ready, idempotently, and say what changed and what was already in place.

Docker, python3 and flock present (installed with apt when missing); Shipyard's state directory; the project
network; the rendered proxy configuration (live colours preserved); the HAProxy container running.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from shipyard.commands import bluegreen as bgc
from shipyard.commands import docker as docker_cmd
from shipyard.commands import haproxy, hoststate
from shipyard.commands import proxy as proxy_cmd
from shipyard.errors import ShipyardError
from shipyard.facts.proxy import parse_config_live
from shipyard.run import on_hosts
from shipyard.run.base import Runner
from shipyard.targets.vmhost import VmHost, vm_hosts
from shipyard.targets.vmtarget import Target

PACKAGES = {"docker": "docker.io", "python3": "python3-minimal", "flock": "util-linux"}


@dataclass
class SetupReport:
    host: str
    changed: list[str] = field(default_factory=list)
    in_place: list[str] = field(default_factory=list)


def parse_probe(text: str) -> dict[str, bool]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.strip().rpartition("=")
        if sep:
            out[key] = value == "yes"
    return out


def setup_host(target: Target, host: VmHost, act: Runner, tls_pem: str | None = None) -> SetupReport:
    """Probes run on the host for real; changes go to `act` (the same host, or a dry-run printer).

    `tls_pem`: certificate chain and key for HTTPS at the proxy (when the environment has proxy.tls).
    """
    runner: Runner = host.runner
    layout = target.layout
    report = SetupReport(host.name)
    probe = parse_probe(runner.run(hoststate.probe(layout.directories), timeout=60).stdout)

    missing = [tool for tool in PACKAGES if not probe.get(tool)]
    if missing:
        if not probe.get("apt"):
            raise ShipyardError(f"[{host.name}] missing {', '.join(missing)} and no apt-get to install them",
                                hint="install Docker and python3 on the host, then run deploy.setup again")
        act.run(hoststate.apt_install([PACKAGES[t] for t in missing]), timeout=1800)  # may wait for cloud-init
        report.changed.append(f"installed {', '.join(PACKAGES[t] for t in missing)}")
    else:
        report.in_place.append("docker, python3, flock present")
    if not probe.get("docker-running", True) and not missing:
        raise ShipyardError(f"[{host.name}] Docker is installed but its daemon does not answer",
                            hint="start it (systemctl start docker) and run deploy.setup again")

    if all(probe.get(f"dir:{d}") for d in layout.directories):
        report.in_place.append(f"state directory {layout.state_dir}")
    else:
        act.run(hoststate.make_dirs(layout), timeout=30)
        report.changed.append(f"created state directory {layout.state_dir}")

    if runner.run(bgc.network_exists(layout), timeout=30, check=False).ok:
        report.in_place.append(f"network {layout.network}")
    else:
        act.run(bgc.network_create(layout), timeout=60)
        report.changed.append(f"created network {layout.network}")

    tls_changed = False
    if target.env.proxy.tls is not None:
        if not tls_pem:
            raise ShipyardError(f"[{host.name}] proxy.tls is set but no certificate was given")
        want = hashlib.sha256(tls_pem.encode()).hexdigest()
        if runner.run(hoststate.file_sha256(layout.tls_pem), timeout=30).stdout.strip() == want:
            report.in_place.append("TLS certificate up to date")
        else:
            act.run(hoststate.write_file(layout.tls_pem, "077"), input=tls_pem, timeout=30)
            report.changed.append(f"wrote the TLS certificate and key to {layout.tls_pem} (mode 600)")
            tls_changed = True

    current = runner.run(hoststate.read_file(layout.proxy_config), timeout=30).stdout
    live = parse_config_live(current)
    wanted = haproxy.render_config(layout, target.backends(live), target.public, target.tls)
    config_changed = current != wanted
    if config_changed:
        act.run(hoststate.write_file(layout.proxy_config), input=wanted, timeout=30)
        report.changed.append("wrote proxy configuration" + (" (live colours kept)" if current else ""))
    else:
        report.in_place.append("proxy configuration up to date")

    _ensure_proxy(target, host, act, report, config_changed or tls_changed)
    return report


def _ensure_proxy(target: Target, host: VmHost, act: Runner, report: SetupReport, config_changed: bool) -> None:
    runner, layout, proxy = host.runner, target.layout, target.env.proxy
    inspect = runner.run(proxy_cmd.inspect(layout), timeout=30, check=False)
    want_port = proxy_cmd.publish(proxy.bind, proxy.http_port)
    https_port = proxy.tls.https_port if proxy.tls is not None else None
    state = json.loads(inspect.stdout) if inspect.ok and inspect.stdout.strip() else None
    if state is not None:
        ports = state.get("ports") or {}
        bindings = ports.get("80/tcp") or [{}]
        host_ip, host_port = bindings[0].get("HostIp", ""), bindings[0].get("HostPort", "")
        https = (ports.get("443/tcp") or [{}])[0].get("HostPort", "")
        matches = state.get("image") == proxy.image and want_port.startswith(
            f"{host_ip}:{host_port}" if ":" not in host_ip else f"[{host_ip}]:{host_port}") and \
            https == (str(https_port) if https_port else "")
        if not matches:
            act.run(proxy_cmd.remove(layout), timeout=60)
            report.changed.append("removed the proxy container (image or port changed; brief interruption)")
            state = None
    if state is None:
        if not host.images_present([proxy.image]).get(proxy.image, False):
            if not act.dry_run:
                host.ensure_tunnel()
            act.run(docker_cmd.pull(proxy.image), timeout=900)
            report.changed.append(f"pulled {proxy.image}")
        act.run(proxy_cmd.run(layout, proxy.image, bind=proxy.bind, http_port=proxy.http_port,
                                 aliases=sorted(target.services), https_port=https_port), timeout=120)
        report.changed.append(f"started the proxy on {want_port.rsplit(':', 1)[0]}")
        return
    if not state.get("running"):
        act.run(docker_cmd.start(layout.proxy_container), timeout=60)
        report.changed.append("started the stopped proxy container")
    elif config_changed:
        checked = act.run(proxy_cmd.check_config(layout), timeout=60, check=False)
        if not checked.ok:
            raise ShipyardError(f"[{host.name}] the new proxy configuration is invalid: "
                                f"{(checked.stderr.strip() or checked.stdout.strip()).splitlines()[-1:]}")
        act.run(proxy_cmd.reload(layout), timeout=30)
        report.changed.append("reloaded the proxy (idle keep-alive clients are closed gracefully)")
    else:
        report.in_place.append("proxy running")


def setup(target: Target, *, dry_run: bool = False,
          tls_pem: str | None = None) -> tuple[list[SetupReport], dict[str, BaseException]]:
    """Per-host reports, and the hosts that failed (with why)."""
    from shipyard.run import DryRunRunner

    runners = target.runners()
    hosts = vm_hosts(runners, target.layout, target.registry)

    def one(runner: Runner) -> SetupReport:
        act: Runner = DryRunRunner(host=runner.host) if dry_run else runner
        return setup_host(target, hosts[runner.host], act, tls_pem)

    try:
        results = on_hosts(runners, one, raise_on_failure=False)
    finally:
        for host in hosts.values():
            host.close()
    reports = [v for v in results.values() if isinstance(v, SetupReport)]
    failures = {k: v for k, v in results.items() if isinstance(v, BaseException)}
    return reports, failures
