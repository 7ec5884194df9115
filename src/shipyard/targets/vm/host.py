"""One VM during a deploy: facts gathered over SSH, plan steps executed, the proxy polled, the registry tunnel.

All commands go through the host's runner (Fabric over SSH). The only other I/O is the reverse tunnel that
lets a VM pull from a registry on the deploying machine's loopback (`run.tunnel.ReverseTunnel`).
"""

from __future__ import annotations

import contextlib
import ipaddress
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from shipyard.commands import bluegreen as bgc
from shipyard.commands import docker as docker_cmd
from shipyard.commands import haproxy, hostfacts
from shipyard.commands.layout import Colour, HostLayout
from shipyard.config.schema import Registry
from shipyard.errors import ShipyardError
from shipyard.facts import containers as container_facts
from shipyard.facts import proxy as proxy_facts
from shipyard.facts import sections
from shipyard.plans.bluegreen import ServiceFacts, Step
from shipyard.run.base import Result, Runner, finish
from shipyard.run.tunnel import ReverseTunnel
from shipyard.targets.registry import HostLogin, login_host

POLL = 0.05  # between two reads of the proxy (each is one SSH round trip, about 50 ms)
# Leaving maintenance, HAProxy reports a server "up", with the check result from before and its health counter
# at `rise`, until its first new check completes. So the gate reads the counter: healthy means up, at the
# container's current address, with the counter full (its last checks passed, none failed since). When the wait
# saw the server down first, the `rise` passes that filled the counter all came after that: healthy at once.
# Otherwise (a kept container that never went down) the counter must stay full for SETTLE, over one more check
# interval: a release that fails any check inside the gate can never be switched to.
SETTLE = haproxy.CHECK_INTERVAL + POLL


class StepFailed(ShipyardError):
    """A step on one host failed; `logs` holds the new container's last lines when they explain it; `output` the
    failed command's whole standard output (for parsers only: never printed)."""

    def __init__(self, host: str, message: str, *, logs: str = "", phase: str = "", output: str = "") -> None:
        super().__init__(f"[{host}] {message}")
        self.host, self.logs, self.phase, self.reason, self.output = host, logs, phase, message, output


def loopback_registry(registry: Registry) -> int | None:
    """The port to tunnel when the registry lives on the deploying machine's loopback, else None."""
    host, _, port = registry.address.rpartition(":")
    if not host:
        host, port = registry.address, ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        return None
    return int(port) if port.isdigit() else 80


@dataclass
class HostFacts:
    services: dict[str, ServiceFacts]
    persisted: dict[str, Colour | None]
    proxy_up: bool


def vm_hosts(runners: Sequence[Runner], layout: HostLayout, registry: Registry,
             login: HostLogin | None = None) -> dict[str, VmHost]:
    """One VmHost per runner, by host name, each able to open the tunnel to a loopback registry (and to log in
    to the registry before its first pull, when it has credentials)."""
    tunnel = loopback_registry(registry)
    return {r.host: VmHost(r, layout, tunnel_port=tunnel, login=login) for r in runners}


class VmHost:
    def __init__(self, runner: Runner, layout: HostLayout, *, tunnel_port: int | None = None,
                 login: HostLogin | None = None) -> None:
        self.runner, self.layout, self.tunnel_port, self.login = runner, layout, tunnel_port, login
        self.name = runner.host
        self._tunnel: ReverseTunnel | None = None
        self._tunnel_lock = threading.Lock()
        self._logged_in = False

    @property
    def docker_config(self) -> str | None:
        """The Docker config this host pulls with (where the login stored its credentials), if any."""
        return self.login.config_dir if self.login is not None else None

    def before_pull(self) -> None:
        """The tunnel to a loopback registry, then `docker login` (once per run; the password on stdin)."""
        self.ensure_tunnel()
        if self.login is None or self.runner.dry_run:
            return
        with self._tunnel_lock:
            if self._logged_in:
                return
            failed = login_host(self.runner, self.login)
            if failed is not None:
                raise StepFailed(self.name, failed, phase="pull")
            self._logged_in = True

    # --- the registry tunnel -------------------------------------------------------------------------------
    def ensure_tunnel(self) -> None:
        """Open the reverse tunnel VM:127.0.0.1:port -> here:127.0.0.1:port once (a no-op for remote registries)."""
        if self.tunnel_port is None or self.runner.dry_run:
            return
        with self._tunnel_lock:
            if self._tunnel is not None and self._tunnel.alive:
                return
            if self._tunnel is not None:  # its connection dropped (the runner reconnects): forward again
                self._tunnel.close()
                self._tunnel = None
            open_tunnel = getattr(self.runner, "reverse_tunnel", None)
            if open_tunnel is None:
                return
            self._tunnel = open_tunnel(self.tunnel_port)  # a refusal is one ShipyardError line

    def close(self) -> None:
        with self._tunnel_lock:
            if self._tunnel is not None:
                with contextlib.suppress(Exception):
                    self._tunnel.close()
                self._tunnel = None
        close = getattr(self.runner, "close", None)
        if close is not None:
            close()

    # --- the proxy's runtime API ---------------------------------------------------------------------------
    def admin(self, text: str, *, expect_output: bool = False) -> str:
        result = self.runner.run(haproxy.admin(self.layout), input=text, timeout=30, check=False)
        if not result.ok:
            raise StepFailed(self.name, "cannot reach the proxy's admin socket "
                                        f"({(result.stderr.strip().splitlines() or ['no output'])[-1]})",
                             phase="proxy")
        out = result.stdout.strip()
        if out and not expect_output:
            raise StepFailed(self.name, f"the proxy refused `{text.strip()}`: {out.splitlines()[0]}", phase="proxy")
        return result.stdout

    def servers(self, service: str | None = None) -> dict[tuple[str, str], proxy_facts.ServerState]:
        text = self.admin(haproxy.batch(haproxy.show_servers_state(service)), expect_output=True)
        try:
            return proxy_facts.parse_servers_state(text)
        except ValueError as exc:
            raise StepFailed(self.name, f"unexpected answer from the proxy: {exc}") from None

    # --- facts ---------------------------------------------------------------------------------------------
    def facts_argv(self, images: dict[str, str]) -> list[str]:
        return hostfacts.gather(self.layout, sorted(set(images.values())))

    def facts(self, images: dict[str, str], read: Result | None = None) -> HostFacts:
        """Containers, persisted and runtime proxy state, image presence: one round trip (none with `read`, the
        result of `facts_argv` already run, as the deploy lock runs it)."""
        if read is None:
            read = self.runner.run(self.facts_argv(images), timeout=60)
        out = finish(read, check=True).stdout
        parts = sections.split(out)
        ps = container_facts.parse_ps(parts.get("ps", ""))
        grouped = container_facts.by_service(ps)
        persisted = proxy_facts.parse_config_live(parts.get("config", ""))
        proxy_running = any(c.role == "proxy" and c.running for c in ps)
        try:
            states = proxy_facts.parse_servers_state(parts.get("servers", "")) if proxy_running else {}
        except ValueError as exc:
            raise StepFailed(self.name, f"unexpected answer from the proxy: {exc}") from None
        present = sections.image_presence(parts.get("images", ""))
        services = {
            svc: ServiceFacts(svc, containers=grouped.get(svc, {}), servers=proxy_facts.colours(states, svc),
                              persisted=persisted.get(svc), image_present=present.get(image, False))
            for svc, image in images.items()
        }
        return HostFacts(services=services, persisted=persisted, proxy_up=proxy_running)

    def images_present(self, images: Sequence[str]) -> dict[str, bool]:
        if not images:
            return {}
        out = self.runner.run(docker_cmd.images_present(images), timeout=60).stdout
        return {line.split(" ", 1)[1]: line.startswith("yes ") for line in out.splitlines() if " " in line}

    def logs_tail(self, service: str, colour: Colour, lines: int = 20) -> str:
        result = self.runner.run(bgc.logs_tail(self.layout, service, colour, lines), timeout=30, check=False)
        return (result.stdout + result.stderr).strip()

    def container_status(self, service: str, colour: Colour) -> tuple[str, str | None]:
        """(status, address on the project network); ('missing', None) when there is no such container."""
        result = self.runner.run(bgc.status(self.layout, service, colour), timeout=30, check=False)
        return container_facts.parse_status(result.stdout) if result.ok else ("missing", None)

    # --- executing plan steps ------------------------------------------------------------------------------
    def run_step(self, step: Step) -> str:
        """Run one step; the standard output of a `run` step (kept for the caller's parsers, never printed), else
        an empty string."""
        if step.kind == "admin":
            self.admin(step.input or "")
        elif step.kind == "run":
            if step.phase == "pull":
                self.before_pull()
            result = self.runner.run(list(step.argv), input=step.input, timeout=step.timeout, check=False)
            if step.check and not result.ok:
                output = (result.stdout.strip() + "\n" + result.stderr.strip()).strip()
                last = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[-1]
                shown = "\n".join(output.splitlines()[-30:]) if step.phase in ("release", "hook") else ""
                raise StepFailed(self.name, f"{step.what} failed (exit {result.exit_code}): {last}",
                                 logs=shown, phase=step.phase, output=result.stdout)
            return result.stdout
        elif step.kind == "wait":
            assert step.service and step.colour
            self.wait_healthy(step.service, step.colour, step.timeout, step.what)
        elif step.kind == "verify":
            self.verify(step)
        else:
            raise ValueError(f"step kind {step.kind} is run by the orchestrator")
        return ""

    def wait_healthy(self, service: str, colour: Colour, timeout: float, what: str) -> None:
        """Until the proxy's own HTTP checks of the new container pass (inside the container network): `rise`
        checks made while it runs, none failed since (see SETTLE)."""
        from concurrent.futures import ThreadPoolExecutor

        deadline = time.monotonic() + timeout
        next_inspect = 0.0
        address: str | None = None
        passing_since: float | None = None
        seen_down = False
        with ThreadPoolExecutor(1, thread_name_prefix=f"inspect-{self.name}") as pool:
            while True:
                now = time.monotonic()
                # the container's state (once a second) and the proxy's view, asked at the same time
                inspect = pool.submit(self.container_status, service, colour) if now >= next_inspect else None
                state = self.servers(service).get((service, colour))
                if inspect is not None:
                    status, address = inspect.result()
                    if status not in {"running", "created"}:
                        raise StepFailed(self.name, f"{service}/{colour} stopped ({status}) before it became "
                                                    "healthy", logs=self.logs_tail(service, colour), phase="healthy")
                    next_inspect = now + 1.0
                if state is not None and (not state.op_running or state.check_health < haproxy.RISE):
                    seen_down = True
                if state is not None and state.healthy and address and state.address == address:
                    passing_since = passing_since or now
                    if seen_down or now - passing_since >= SETTLE:
                        return
                else:
                    passing_since = None
                if now >= deadline:
                    seen = (f"proxy says {state.admin}, {'up' if state.op_running else 'down'}" if state
                            else "no server")
                    raise StepFailed(self.name, f"{service}/{colour} never passed its readiness check within "
                                                f"{timeout:g}s ({seen})", logs=self.logs_tail(service, colour),
                                     phase="healthy")
                time.sleep(POLL)

    def verify(self, step: Step) -> None:
        assert step.service and step.colour
        deadline = time.monotonic() + step.timeout
        while True:
            if step.url:
                result = self.runner.run(list(step.argv), timeout=step.timeout, check=False)
                ok, detail = result.ok, (result.stdout.strip() or result.stderr.strip() or "no answer")
            else:
                state = self.servers(step.service).get((step.service, step.colour))
                ok = state is not None and state.serving
                detail = f"{state.admin}, {'up' if state.op_running else 'down'}" if state else "no such server"
            if ok:
                return
            if time.monotonic() >= deadline:
                raise StepFailed(self.name, f"verification failed: {step.what}: {detail}", phase="verify")
            time.sleep(POLL)

    def _servers_and_counters(self) -> tuple[dict[tuple[str, str], proxy_facts.ServerState],
                                             dict[tuple[str, str], proxy_facts.Counters]]:
        """`show servers state` and `show stat` in one admin round trip."""
        text = self.admin(haproxy.batch(haproxy.show_servers_state(), haproxy.show_stat()), expect_output=True)
        state, stat = proxy_facts.split_state_and_stat(text)
        try:
            return proxy_facts.parse_servers_state(state), proxy_facts.parse_stat(stat)
        except ValueError as exc:
            raise StepFailed(self.name, f"unexpected answer from the proxy: {exc}") from None

    def counters(self) -> dict[tuple[str, str], proxy_facts.Counters]:
        text = self.admin(haproxy.batch(haproxy.show_stat()), expect_output=True)
        try:
            return proxy_facts.parse_stat(text)
        except ValueError as exc:
            raise StepFailed(self.name, f"unexpected answer from the proxy: {exc}") from None

    def watch(self, targets: Sequence[tuple[str, Colour]], window: float,
              stop: threading.Event | None = None, *, max_error_rate: float | None = None,
              max_response_time: float | None = None) -> list[str]:
        """Poll the new colours for `window` seconds; the reasons of any that went down or, with `max_error_rate`
        or `max_response_time`, failed too many of their real requests or answered them too slowly (HAProxy's
        counters since the window opened). Empty: all good. One round trip per poll."""
        from shipyard.plans.bluegreen import traffic_problems

        judged = max_error_rate is not None or max_response_time is not None
        deadline = time.monotonic() + window
        before = self.counters() if judged else {}
        while time.monotonic() < deadline:
            if stop is not None and stop.is_set():
                return []
            states, after = self._servers_and_counters() if judged else (self.servers(), {})
            failures = []
            for service, colour in targets:
                state = states.get((service, colour))
                if state is None:
                    failures.append(f"{service}/{colour} vanished from the proxy inside the watch window")
                elif not state.op_running or state.admin != "ready":
                    how = "down" if not state.op_running else f"to {state.admin}"
                    failures.append(f"{service}/{colour} went {how} inside the watch window")
            if judged and not failures:
                failures = traffic_problems(before, after, targets, max_error_rate, max_response_time)
            if failures:
                return failures
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        return []
