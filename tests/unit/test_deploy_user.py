"""A non-root deploy user: directories by group (never world-accessible), the admin socket through that group,
root only through `sudo -n` or a one-line error. The shell scripts run for real on a scratch state root."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from shipyard.commands import haproxy, hoststate, proxy
from shipyard.commands.layout import HostLayout
from shipyard.errors import ShipyardError
from shipyard.facts.proxy import proxy_differs
from shipyard.run.base import Result
from shipyard.targets.vm import setup as vm_setup

LAYOUT = HostLayout("demo")


def test_directories_parents_first_setgid_and_never_world_accessible() -> None:
    paths = [path for path, _ in LAYOUT.directory_modes]
    assert paths == list(LAYOUT.directories) and paths[0] == LAYOUT.state_dir
    assert all(any(p.startswith(parent + "/") for parent in paths[:i]) for i, p in enumerate(paths) if i)
    modes = dict(LAYOUT.directory_modes)
    assert all(mode.startswith("2") and mode.endswith("0") for mode in modes.values()), modes
    assert modes[LAYOUT.proxy_run_dir] == "2770"  # the proxy creates its socket there through the group
    assert {m for p, m in modes.items() if p != LAYOUT.proxy_run_dir} == {"2750"}


def test_admin_socket_is_group_usable_and_the_proxy_joins_the_group() -> None:
    text = haproxy.render_config(LAYOUT, [haproxy.Backend("web", 3000, "/ready", "blue")], "web")
    assert f"stats socket {haproxy.CONTAINER_SOCKET_DIR}/admin.sock mode 660 level admin" in text
    argv = proxy.run(LAYOUT, "haproxy:2.8", bind="0.0.0.0", http_port=80, aliases=["web"], group="997")
    assert argv[argv.index("--user"):argv.index("--user") + 4] == ["--user", "0:0", "--group-add", "997"]
    assert argv[argv.index("--cap-drop") + 1] == "ALL"  # no DAC override: files are reached through the group
    assert "--group-add" not in proxy.run(LAYOUT, "haproxy:2.8", bind="0.0.0.0", http_port=80, aliases=["web"])
    assert '"groups": {{json .HostConfig.GroupAdd}}' in proxy.inspect(LAYOUT)[-2]


def test_root_through_sudo_without_a_prompt() -> None:
    argv = hoststate.apt_install(["docker.io"])
    assert hoststate.as_root(argv, root=True) == argv
    assert hoststate.as_root(argv, root=False) == ["sudo", "-n", *argv]
    assert hoststate.make_state_root(LAYOUT, "deploy", "997") == [
        "install", "-d", "-o", "deploy", "-g", "997", "-m", "2750", "/var/lib/shipyard"]


def sh(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def probe(layout: HostLayout) -> dict[str, str]:
    result = sh(hoststate.probe(layout))
    assert result.returncode == 0, result.stderr
    return vm_setup.parse_probe(result.stdout)


@pytest.mark.skipif(os.geteuid() != 0, reason="sets a directory's group (the CI machine runs as root)")
def test_make_dirs_then_probe_on_a_scratch_state_root(tmp_path: Path) -> None:
    root = tmp_path / "shipyard"
    root.mkdir()
    os.chown(root, -1, 4)  # a group that is not the user's own, as `shipyard` is on a prepared host
    root.chmod(0o2750)
    layout = HostLayout("demo", root=str(root))
    before = probe(layout)
    assert before["state-root"] == "yes" and before["gid"] == "4" and before["user"]
    assert not any(before[f"dir:{d}"] == "yes" for d in layout.directories)

    made = sh(hoststate.make_dirs(layout))
    assert made.returncode == 0, made.stderr
    after = probe(layout)
    assert all(after[f"dir:{d}"] == "yes" for d in layout.directories), after
    for path, mode in layout.directory_modes:
        info = Path(path).stat()
        assert info.st_gid == 4 and oct(stat.S_IMODE(info.st_mode))[2:] == mode and not info.st_mode & stat.S_IRWXO

    # drift is seen and repaired: a world-writable run directory, a directory of another group
    Path(layout.proxy_run_dir).chmod(0o2777)
    os.chown(layout.env_dir, -1, 0)
    drifted = probe(layout)
    assert drifted[f"dir:{layout.proxy_run_dir}"] == "no" and drifted[f"dir:{layout.env_dir}"] == "no"
    assert drifted[f"dir:{layout.proxy_conf_dir}"] == "yes"
    assert sh(hoststate.make_dirs(layout)).returncode == 0
    assert all(v == "yes" for k, v in probe(layout).items() if k.startswith("dir:"))


def test_probe_without_a_state_root_gives_the_users_group(tmp_path: Path) -> None:
    out = probe(HostLayout("demo", root=str(tmp_path / "missing")))
    assert out["state-root"] == "no" and out["gid"] == str(os.getgid())
    assert out["root"] == ("yes" if os.geteuid() == 0 else "no")


class Recorder:
    """A host runner stand-in: records what would run."""

    dry_run = False

    def __init__(self) -> None:
        self.ran: list[list[str]] = []

    def run(self, argv: list[str], **_kwargs: Any) -> Result:
        self.ran.append(list(argv))
        return Result(tuple(argv), 0, "", "", 0.0)


def facts(**overrides: str) -> dict[str, str]:
    base = {"docker": "yes", "python3": "yes", "flock": "yes", "docker-running": "yes", "apt": "yes",
            "user": "deploy", "root": "no", "sudo": "no", "state-root": "yes", "gid": "997",
            **{f"dir:{d}": "yes" for d in LAYOUT.directories}}
    return {**base, **overrides}


def prepare(probe_facts: dict[str, str]) -> tuple[Recorder, vm_setup.SetupReport, str]:
    act, report = Recorder(), vm_setup.SetupReport("h1")
    gid = vm_setup._packages_and_state(SimpleNamespace(layout=LAYOUT), SimpleNamespace(name="h1"),  # type: ignore[arg-type]
                                      act, probe_facts, report)
    return act, report, gid


def test_a_prepared_host_needs_nothing_and_gives_the_proxy_its_group() -> None:
    act, report, gid = prepare(facts())
    assert act.ran == [] and gid == "997" and f"state directory {LAYOUT.state_dir}" in report.in_place


@pytest.mark.parametrize(("probe_facts", "message", "hint"), [
    (facts(docker="no"), "[h1] missing docker, and deploy is not root and may not `sudo -n`",
     "as root, install docker.io (host-setup.sh does)"),
    (facts(**{"state-root": "no"}), "[h1] /var/lib/shipyard does not exist, and deploy is not root",
     "run host-setup.sh on the host as root"),
    (facts(**{"docker-denied": "yes", "docker-running": "no"}), "[h1] deploy may not use Docker (not in the docker "
     "group)", "add it to the group docker"),
])
def test_what_needs_root_stops_with_one_line(probe_facts: dict[str, str], message: str, hint: str) -> None:
    with pytest.raises(ShipyardError) as raised:
        prepare(probe_facts)
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)
    assert hint in (raised.value.hint or "")


def test_what_needs_root_goes_through_sudo_when_allowed_and_directly_as_root() -> None:
    act, report, _ = prepare(facts(docker="no", sudo="yes", **{"state-root": "no"}))
    assert act.ran[0] == ["sudo", "-n", *hoststate.apt_install(["docker.io"])]
    assert act.ran[1] == ["sudo", "-n", *hoststate.make_state_root(LAYOUT, "deploy", "997")]
    assert "installed docker.io" in report.changed
    as_root, _, _ = prepare(facts(flock="no", root="yes", user="root"))
    assert as_root.ran == [hoststate.apt_install(["util-linux"])]


def test_the_certificate_is_compared_by_hash_and_mode(tmp_path: Path) -> None:
    pem = tmp_path / "site.pem"
    assert sh(hoststate.file_sha256_mode(str(pem))).stdout == ""
    pem.write_text("chain and key")
    pem.chmod(0o600)  # as a root deploy left it: the proxy, reading through the group, could not
    import hashlib

    want = hashlib.sha256(b"chain and key").hexdigest()
    assert sh(hoststate.file_sha256_mode(str(pem))).stdout.split() == [want, "600"]
    pem.chmod(0o640)
    assert sh(hoststate.file_sha256_mode(str(pem))).stdout.split() == [want, "640"]


def running_proxy(aliases: list[str]) -> dict[str, object]:
    """`proxy.inspect`'s object for a proxy started by setup (Docker adds the container's short id as an alias)."""
    return {"running": True, "image": "haproxy:2.8", "groups": ["997"],
            "ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "80"}]},
            "networks": {LAYOUT.network: {"Aliases": [*aliases, "3f2a9c1b0d4e"]}}}


def differs(state: dict[str, object], aliases: list[str]) -> list[str]:
    return proxy_differs(state, image="haproxy:2.8", publish="0.0.0.0:80:80", https_port=None, group="997",
                         network=LAYOUT.network, aliases=aliases)


def test_the_proxy_is_started_again_when_a_service_has_no_alias_on_it() -> None:
    """A service added to shipyard.yaml after `deploy.setup`: the others reach it by name through the proxy, so
    setup starts the proxy again with its alias (and only then)."""
    assert differs(running_proxy(["api", "web"]), ["api", "web"]) == []
    assert differs(running_proxy(["web"]), ["api", "web"]) == ["no network alias for api"]
    assert differs({**running_proxy(["api"]), "image": "haproxy:2.9"}, ["api"]) == ["image"]
    assert '"networks": {{json .NetworkSettings.Networks}}' in proxy.inspect(LAYOUT)[-2]
