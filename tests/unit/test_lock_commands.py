"""deploy.setup and deploy.prune take the deploy lock of every host they change: all hosts are locked before the
first change, every change runs while the host's lease is held, the leases are released at the end; another
deploy's lease refuses the whole command (nothing changes anywhere) unless --wait outlasts it; a dry run takes no
lock. The lock script runs for real, in each fake host's own scratch state directory."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from shipyard.commands.layout import HostLayout
from shipyard.config import parse
from shipyard.facts.lock import Lease
from shipyard.run.base import Result
from shipyard.targets.vm import admin as vm_admin
from shipyard.targets.vm import setup as vm_setup
from shipyard.targets.vm.lock import LockHeld, machine_id
from shipyard.targets.vm.target import Target

CONFIG = """\
project: demo
registry:
  address: registry.example:5443
  namespace: demo
services:
  app:
    port: 8000
environments:
  staging:
    target: vm
    hosts: [10.0.0.1, 10.0.0.2]
"""
LAYOUT = HostLayout("demo")
PREPARED = "\n".join([  # what probe.sh says of a host that host-setup.sh prepared
    "docker=yes", "python3=yes", "flock=yes", "docker-running=yes", "apt=yes", "user=deploy", "root=no", "sudo=no",
    "state-root=yes", "gid=997", *(f"dir:{d}=yes" for d in LAYOUT.directories)]) + "\n"
REPO = "registry.example:5443/demo/app"
IMAGES = "\n".join(json.dumps({"Repository": REPO, "Tag": f"{i:07x}", "ID": f"sha256:{i:064x}",
                               "CreatedAt": f"2027-01-{i:02d} 10:00:00 +0000 UTC"}) for i in range(1, 8)) + "\n"
CHANGES = ("shipyard-write", "docker pull", "docker run", "docker image rm", "docker network create")


class FakeHost:
    """A host runner: lock.sh runs for real in this host's own state directory; the probe says the host is
    prepared, `docker image ls` lists seven releases; every other command succeeds with no output. Each command is
    recorded with whether the host's lease was held when it ran."""

    dry_run = False

    def __init__(self, name: str, state: Path) -> None:
        self.host, self.state = name, state
        self.ran: list[tuple[str, bool]] = []
        self.lock_modes: list[str] = []

    @property
    def locked(self) -> bool:
        return (self.state / "lock.json").exists()

    def run(self, argv: Sequence[str], *, timeout: float | None = None, check: bool = True,
            env: Mapping[str, str] | None = None, cwd: str | None = None, input: str | None = None,
            stream: bool = False) -> Result:
        argv = list(argv)
        shell = argv[:2] == ["sh", "-c"]
        if shell and argv[3] == "shipyard-lock":
            self.lock_modes.append(argv[5])
            done = subprocess.run([*argv[:4], str(self.state), *argv[5:]], input=input or "", capture_output=True,
                                  text=True, timeout=30)
            return Result(tuple(argv), done.returncode, done.stdout, done.stderr, 0.0, self.host)
        what = argv[3] if shell else " ".join(argv[:3])
        self.ran.append((what, self.locked))
        out = {"shipyard-probe": PREPARED, "docker image ls": IMAGES}.get(what, "")
        return Result(tuple(argv), 0, out, "", 0.0, self.host)

    def changes(self) -> list[tuple[str, bool]]:
        return [(what, held) for what, held in self.ran if what.startswith(CHANGES)]


def hosts_and_target(tmp_path: Path) -> tuple[list[FakeHost], Target]:
    target = Target.from_config(parse(CONFIG), "staging")
    hosts = [FakeHost(name, tmp_path / name) for name in target.host_names()]
    target._pool.update({h.host: h for h in hosts})  # the target's runners are these fakes
    return hosts, target


def someone_else(host: FakeHost, **changes: object) -> Path:
    """A running deploy's lease on `host`, from another machine (renewed just now)."""
    now = time.time()
    fields: dict[str, object] = {"id": "theirs", "holder": "bob@laptop", "machine": "laptop", "pid": 4242,
                                 "reason": "deploy abc to staging", "started": now, "expires": now + 120,
                                 "ttl": 120.0, "machine_id": "feedfacefeedface", **changes}
    host.state.mkdir(parents=True, exist_ok=True)
    path = host.state / "lock.json"
    path.write_text(Lease(**fields).to_json())  # type: ignore[arg-type]
    return path


def test_setup_locks_every_host_before_changing_one_and_releases_at_the_end(tmp_path: Path) -> None:
    hosts, target = hosts_and_target(tmp_path)
    reports, failures = vm_setup.setup(target)
    assert failures == {} and {r.host for r in reports} == {"10.0.0.1", "10.0.0.2"}
    for host in hosts:
        assert host.lock_modes == ["acquire", "release"] and not host.locked
        assert [what for what, _ in host.changes()] == ["shipyard-write", "docker pull haproxy:2.8",
                                                        "docker run --detach"]
        assert all(held for _, held in host.changes()), host.changes()  # every change under the lease
        assert ("shipyard-probe", False) in host.ran  # what the lock needs is looked at before it is taken


def test_setup_refuses_while_another_deploy_holds_a_host_and_changes_nothing(tmp_path: Path) -> None:
    hosts, target = hosts_and_target(tmp_path)
    held = someone_else(hosts[1])
    before = held.read_text()
    with pytest.raises(LockHeld) as refused:
        vm_setup.setup(target)
    assert str(refused.value).startswith("[10.0.0.2] another deploy is in progress: held by bob@laptop (pid 4242)")
    assert "for 'deploy abc to staging', expires in 1" in str(refused.value)
    assert "--wait" in (refused.value.hint or "") and "deploy.unlock --force" in (refused.value.hint or "")
    assert held.read_text() == before  # their lease is untouched
    assert not hosts[0].locked and hosts[0].lock_modes == ["acquire", "release"]  # ours, given back
    assert all(host.changes() == [] for host in hosts)


def test_setup_waits_for_the_lock_with_wait(tmp_path: Path) -> None:
    hosts, target = hosts_and_target(tmp_path)
    held = someone_else(hosts[0])
    threading.Timer(0.3, held.unlink).start()  # the other deploy ends
    reports, failures = vm_setup.setup(target, wait=20.0)
    assert failures == {} and len(reports) == 2 and hosts[0].changes() and all(h for _, h in hosts[0].changes())
    assert not hosts[0].locked and not hosts[1].locked


def test_setup_takes_over_a_dead_holders_lease_of_this_machine_and_records_it(tmp_path: Path) -> None:
    if machine_id() is None:
        pytest.skip("this machine has no identity: only an expired lease can be taken over here")
    hosts, target = hosts_and_target(tmp_path)
    child = subprocess.Popen(["true"])
    child.wait()
    someone_else(hosts[0], machine_id=machine_id(), pid=child.pid, holder="ana@here")
    said: list[str] = []
    _, failures = vm_setup.setup(target, say=said.append)
    assert failures == {} and len(said) == 1
    assert said[0].startswith("[10.0.0.1] took over a stale deploy lock of ana@here for 'deploy abc to staging'")
    assert ("shipyard-ledger", True) in hosts[0].ran and not hosts[0].locked


def test_setup_dry_run_takes_no_lock(tmp_path: Path) -> None:
    hosts, target = hosts_and_target(tmp_path)
    someone_else(hosts[0])  # even a held lock does not stop a look at what would change
    reports, failures = vm_setup.setup(target, dry_run=True)
    assert failures == {} and len(reports) == 2 and all(h.lock_modes == [] and h.changes() == [] for h in hosts)
    assert any("wrote proxy configuration" in line for line in reports[0].changed)


def test_prune_removes_images_only_under_the_lease_and_releases_it(tmp_path: Path) -> None:
    hosts, target = hosts_and_target(tmp_path)
    pruned = vm_admin.prune(target, dry_run=False, registry=False)
    assert pruned.registry is None and pruned.registry_skipped is None
    for host in hosts:  # seven releases, none in the ledger: the five newest are kept
        assert pruned.hosts[host.host] == [f"{REPO}:0000002", f"{REPO}:0000001"]
        assert host.changes() == [("docker image rm", True), ("docker image rm", True)]
        assert host.lock_modes == ["acquire", "release"] and not host.locked


def test_prune_refuses_while_another_deploy_holds_a_host(tmp_path: Path) -> None:
    hosts, target = hosts_and_target(tmp_path)
    someone_else(hosts[0])
    with pytest.raises(LockHeld, match=r"^\[10\.0\.0\.1\] another deploy is in progress: held by bob@laptop"):
        vm_admin.prune(target, dry_run=False, registry=False)
    assert all(host.changes() == [] for host in hosts)
    assert hosts[0].locked and not hosts[1].locked and hosts[1].lock_modes == ["acquire", "release"]


def test_prune_dry_run_takes_no_lock(tmp_path: Path) -> None:
    hosts, target = hosts_and_target(tmp_path)
    someone_else(hosts[0])
    pruned = vm_admin.prune(target, dry_run=True, registry=False)
    assert pruned.hosts["10.0.0.1"] == [f"{REPO}:0000002", f"{REPO}:0000001"]
    assert all(h.lock_modes == [] and h.changes() == [] for h in hosts)
