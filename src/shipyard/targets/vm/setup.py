"""`deploy.setup`: make fresh VMs ready, idempotently, and say what changed and what was already in place.

Docker, python3 and flock present (installed with apt when missing); Shipyard's state directory; the project
network; the rendered proxy configuration (live colours preserved); the HAProxy container running.

On a host prepared by host-setup.sh (terraform/modules/droplet-cluster) nothing here needs root: the SSH user
owns the state root and is in the docker group. What does need root on another host (apt, creating the state
root) goes through `sudo -n` when sudo allows it, or stops with one line that says what to do as root.

The network, the certificate and the proxy are changed under the deploy lock of every host (a deploy running at
the same time refuses setup, or setup queues with --wait); what the lock itself needs comes first.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from shipyard.commands import bluegreen as bgc
from shipyard.commands import docker as docker_cmd
from shipyard.commands import haproxy, hoststate
from shipyard.commands import proxy as proxy_cmd
from shipyard.errors import ShipyardError
from shipyard.facts.proxy import parse_config_live, proxy_differs
from shipyard.run import on_hosts
from shipyard.run.base import CommandError, Runner
from shipyard.targets.vm.host import VmHost, vm_hosts
from shipyard.targets.vm.lock import HostLock, holding
from shipyard.targets.vm.target import Target

T = TypeVar("T")

DROPPED = -1  # the exit code of a remote command whose connection closed before it reported one
FIRST_BOOT_LIMIT = 900  # seconds deploy.setup waits, in all, for cloud-init and apt's locks on a fresh droplet
PACKAGES = {"docker": "docker.io", "python3": "python3-minimal", "flock": "util-linux"}


@dataclass
class SetupReport:
    host: str
    changed: list[str] = field(default_factory=list)
    in_place: list[str] = field(default_factory=list)
    waited: list[str] = field(default_factory=list)  # first boot: cloud-init, apt's lock


def parse_probe(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.strip().rpartition("=")
        if sep:
            out[key] = value
    return out


def _as_root(host: str, probe: dict[str, str], argv: list[str], why: str, hint: str) -> list[str]:
    """`argv` as root (directly, or `sudo -n`); a one-line error naming what to do when neither is possible."""
    if probe.get("root") == "yes" or probe.get("sudo") == "yes":
        return hoststate.as_root(argv, root=probe.get("root") == "yes")
    raise ShipyardError(f"[{host}] {why}, and {probe.get('user', 'the SSH user')} is not root and may not "
                        "`sudo -n`", hint=hint)


def _packages_and_state(target: Target, host: VmHost, act: Runner, probe: dict[str, str],
                        report: SetupReport) -> str:
    """Packages, Docker access and the state directories; returns the group (gid) the proxy works through."""
    layout = target.layout

    def yes(key: str) -> bool:
        return probe.get(key) == "yes"

    missing = [tool for tool in PACKAGES if not yes(tool)]
    if missing:
        if not yes("apt"):
            raise ShipyardError(f"[{host.name}] missing {', '.join(missing)} and no apt-get to install them",
                                hint="install Docker and python3 on the host, then run deploy.setup again")
        names = [PACKAGES[t] for t in missing]
        argv = _as_root(host.name, probe, hoststate.apt_install(names), f"missing {', '.join(missing)}",
                        hint=f"as root, install {' '.join(names)} (host-setup.sh does), then run deploy.setup again")
        act.run(argv, timeout=1800)  # may wait for cloud-init
        report.changed.append(f"installed {', '.join(names)}")
    else:
        report.in_place.append("docker, python3, flock present")
    if yes("docker-denied"):
        raise ShipyardError(f"[{host.name}] {probe.get('user')} may not use Docker (not in the docker group)",
                            hint="as root, add it to the group docker (host-setup.sh does), then run deploy.setup")
    if probe.get("docker-running") == "no" and not missing:
        raise ShipyardError(f"[{host.name}] Docker is installed but its daemon does not answer",
                            hint="start it (systemctl start docker) and run deploy.setup again")

    gid = probe.get("gid", "0")
    if not yes("state-root"):
        user = probe.get("user", "root")
        act.run(_as_root(host.name, probe, hoststate.make_state_root(layout, user, gid),
                         f"{layout.root} does not exist",
                         hint=f"run host-setup.sh on the host as root (it makes {layout.root} the deploy user's)"),
                timeout=30)
        report.changed.append(f"created {layout.root} for {user}")
    if all(yes(f"dir:{d}") for d in layout.directories):
        report.in_place.append(f"state directory {layout.state_dir}")
    else:
        made = act.run(hoststate.make_dirs(layout), timeout=30, check=False)
        if not made.ok:
            last = (made.stderr.strip() or made.stdout.strip() or f"exit {made.exit_code}").splitlines()[-1]
            raise ShipyardError(f"[{host.name}] cannot prepare {layout.state_dir}: {last}")
        report.changed.append(f"state directory {layout.state_dir} (group {gid}, nothing world-readable)")
    return gid


def prepare_host(target: Target, host: VmHost, act: Runner) -> tuple[SetupReport, str]:
    """First boot, packages and the state directory: what the deploy lock needs (lock.sh runs flock in that
    directory), so these run before the lock is taken. They only add what is missing (or give a directory back its
    mode), which a running deploy does not mind, and a host without them cannot be in the middle of a deploy.
    Returns the report so far and the group (gid) the proxy works through."""
    runner: Runner = host.runner
    report = SetupReport(host.name)
    waited = runner.run(hoststate.first_boot_wait(FIRST_BOOT_LIMIT), timeout=FIRST_BOOT_LIMIT + 60, check=False)
    if waited.exit_code == 75:
        raise ShipyardError(f"[{host.name}] {waited.stderr.strip() or 'first boot did not finish'}",
                            hint="the host is still installing or upgrading packages; run deploy.setup again later")
    report.waited = [line for line in waited.stdout.splitlines() if line.startswith("waited ")]
    probe = parse_probe(runner.run(hoststate.probe(target.layout), timeout=60).stdout)
    gid = _packages_and_state(target, host, act, probe, report)
    return report, gid


def configure_host(target: Target, host: VmHost, act: Runner, report: SetupReport, gid: str,
                   tls_pem: str | None = None) -> SetupReport:
    """The network, the TLS certificate, the proxy configuration and container: under the deploy lock (a running
    deploy's switch must not meet a rewritten haproxy.cfg). Probes run on the host for real; changes go to `act`
    (the same host through its lease, or a dry-run printer).

    `tls_pem`: certificate chain and key for HTTPS at the proxy (when the environment has proxy.tls).
    """
    runner: Runner = host.runner
    layout = target.layout

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
        if runner.run(hoststate.file_sha256_mode(layout.tls_pem), timeout=30).stdout.split() == [want, "640"]:
            report.in_place.append("TLS certificate up to date")
        else:
            # mode 640, group of the state directory: the proxy (root without capabilities) reads it as that group
            act.run(hoststate.write_file(layout.tls_pem, "027"), input=tls_pem, timeout=30)
            report.changed.append(f"wrote the TLS certificate and key to {layout.tls_pem} (mode 640)")
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

    _ensure_proxy(target, host, act, report, config_changed or tls_changed, gid)
    return report


def _ensure_proxy(target: Target, host: VmHost, act: Runner, report: SetupReport, config_changed: bool,
                  group: str) -> None:
    runner, layout, proxy = host.runner, target.layout, target.env.proxy
    inspect = runner.run(proxy_cmd.inspect(layout), timeout=30, check=False)
    want_port = proxy_cmd.publish(proxy.bind, proxy.http_port)
    https_port = proxy.tls.https_port if proxy.tls is not None else None
    state = json.loads(inspect.stdout) if inspect.ok and inspect.stdout.strip() else None
    if state is not None:
        differs = proxy_differs(state, image=proxy.image, publish=want_port, https_port=https_port, group=group,
                                network=layout.network, aliases=sorted(target.services))
        if differs:
            act.run(proxy_cmd.remove(layout), timeout=60)
            report.changed.append(f"removed the proxy container ({'; '.join(differs)}: it is started again with"
                                  " them; brief interruption)")
            state = None
    if state is None:
        if not host.images_present([proxy.image]).get(proxy.image, False):
            if not act.dry_run:
                host.before_pull()
            act.run(docker_cmd.pull(proxy.image, config=host.docker_config), timeout=900)
            report.changed.append(f"pulled {proxy.image}")
        act.run(proxy_cmd.run(layout, proxy.image, bind=proxy.bind, http_port=proxy.http_port,
                                 aliases=sorted(target.services), https_port=https_port, group=group), timeout=120)
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


def _again_if_dropped(host: VmHost, body: Callable[[], T], *, dry_run: bool, lock: HostLock | None = None) -> T:
    try:
        return body()
    except CommandError as exc:
        if exc.exit_code != DROPPED or dry_run:
            raise
    # The SSH connection dropped mid-command (no exit status came back). Every step here is idempotent and
    # converges from what it finds, so reconnect and run this part of the host's setup once more.
    with contextlib.suppress(Exception):  # the transport is already gone
        host.close()
    print(f"[{host.name}] the SSH connection dropped during setup; reconnecting and running it again")
    if lock is not None:  # a renewal missed while the connection was down is forgiven if the lease is still ours
        lock.reclaim()
    return body()


def setup(target: Target, *, dry_run: bool = False, tls_pem: str | None = None, wait: float = 0.0,
          say: Callable[[str], None] = print) -> tuple[list[SetupReport], dict[str, BaseException]]:
    """Per-host reports, and the hosts that failed (with why).

    Every host is prepared first (first boot, packages, state directory: what a lock needs); then the deploy lock
    is taken on every prepared host (LockHeld, and nothing more changes anywhere, when another deploy holds one;
    `wait` seconds of queueing first); then each host is configured under its lease, and the locks are released.
    A dry run changes nothing, so it takes no lock."""
    from shipyard.run import DryRunRunner

    runners = target.runners()
    hosts = vm_hosts(runners, target.layout, target.registry, target.host_login())

    def acting(runner: Runner) -> Runner:
        return DryRunRunner(host=runner.host) if dry_run else runner

    def prepare(runner: Runner) -> tuple[SetupReport, str]:
        host = hosts[runner.host]
        return _again_if_dropped(host, lambda: prepare_host(target, host, acting(runner)), dry_run=dry_run)

    def configure(runner: Runner, act: Runner, lock: HostLock | None = None) -> SetupReport:
        host, found = hosts[runner.host], prepared[runner.host]
        assert isinstance(found, tuple)
        report, gid = found
        return _again_if_dropped(host, lambda: configure_host(target, host, act, copy.deepcopy(report), gid, tls_pem),
                                 dry_run=dry_run, lock=lock)

    try:
        prepared = on_hosts(runners, prepare, raise_on_failure=False)
        failures = {k: v for k, v in prepared.items() if isinstance(v, BaseException)}
        ready = [r for r in runners if r.host not in failures]
        if dry_run:
            results = on_hosts(ready, lambda r: configure(r, acting(r)), raise_on_failure=False)
        else:
            with holding(ready, target.layout, f"deploy.setup on {target.env_name}", wait=wait, say=say) as held:
                failures.update(held.failed)
                locked = [r for r in ready if r.host in held.locks]
                results = on_hosts(locked, lambda r: configure(r, held.runner(r.host), held.locks[r.host]),
                                   raise_on_failure=False)
    finally:
        for host in hosts.values():
            host.close()
    reports = [v for v in results.values() if isinstance(v, SetupReport)]
    failures.update({k: v for k, v in results.items() if isinstance(v, BaseException)})
    return reports, failures
