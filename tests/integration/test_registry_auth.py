"""A private registry, authenticated, for real: Debian's docker-registry with TLS + htpasswd, and with Docker's token
flow against a real token server. Shipyard's registry client, `docker login --password-stdin` into a per-project
config, pushes through it, a wrong password as one line before anything is built, and a canary password that never
shows anywhere."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from private_registry import Served, tiny_image, tls_htpasswd_registry, token_registry

from ports import free_port
from shipyard.config import parse
from shipyard.config.schema import Registry
from shipyard.config.secrets import Secret
from shipyard.release import Release
from shipyard.run import LocalRunner
from shipyard.run.registry import Credentials, RegistryAuthError, RegistryClient, RegistryUnreachable
from shipyard.targets import images
from shipyard.targets import registry as reg
from shipyard.targets.vm.target import Target

pytestmark = pytest.mark.docker
USER = "ci"
CANARY = "canary-registry-" + uuid.uuid4().hex  # the registries' real password: it must never show
WRONG = "wrong-password-" + uuid.uuid4().hex
RUN = LocalRunner(echo=lambda _line: None)
SHIPYARD = str(Path(sys.executable).with_name("shipyard"))


@pytest.fixture(scope="module")
def tls_registry(docker_engine: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with tls_htpasswd_registry(tmp_path_factory.mktemp("tls-registry"), USER, CANARY) as served:
        yield served


@pytest.fixture(scope="module")
def tok_registry(docker_engine: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with token_registry(tmp_path_factory.mktemp("token-registry"), USER, CANARY) as served:
        yield served


@pytest.fixture
def pushed() -> Iterator[list[str]]:
    refs: list[str] = []
    yield refs
    for ref in refs:
        RUN.run(["docker", "image", "rm", "--force", ref], check=False, timeout=60)


def creds(password: str = CANARY) -> Credentials:
    return Credentials(USER, Secret("REGISTRY_PASSWORD", password),
                       secret_name="REGISTRY_PASSWORD")  # pragma: allowlist secret


def login_and_push(served: Served, folder: Path, ref: str) -> None:
    registry = Registry(address=served.address, namespace="pytest")
    reg.login_local(RUN, registry, creds(), folder, say=lambda _line: None)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    tiny_image(ref, uuid.uuid4().hex)
    RUN.run(["docker", "--config", str(folder), "push", ref], timeout=300)


def local_digest(ref: str) -> str:
    out = RUN.run(["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", ref], timeout=60).stdout
    return out.split("@", 1)[1].split('"', 1)[0]


@pytest.mark.parametrize("kind", ["htpasswd+tls", "token"])
def test_login_push_and_every_api_call(kind: str, request: pytest.FixtureRequest, tmp_path: Path,
                                       pushed: list[str]) -> None:
    served: Served = request.getfixturevalue("tls_registry" if kind == "htpasswd+tls" else "tok_registry")
    repository = f"pytest/api-{uuid.uuid4().hex[:6]}"
    ref = f"{served.address}/{repository}:t1"
    pushed.append(ref)
    login_and_push(served, tmp_path / "docker", ref)
    with RegistryClient(served.address, credentials=creds(), ca=served.ca) as client:
        assert client.check() == "registry/2.0"
        assert client.tags(repository) == ["t1"]
        assert client.exists(repository, "t1") and not client.exists(repository, "nope")
        digest = client.digest(repository, "t1")
        assert digest == local_digest(ref)  # the digest docker recorded at push time
        assert client.tags(f"pytest/never-{uuid.uuid4().hex[:6]}") == []
        client.delete(repository, digest)
        assert client.digest(repository, "t1") is None and client.tags(repository) == []
    with RegistryClient(served.address, ca=served.ca) as anonymous, pytest.raises(RegistryAuthError) as info:
        anonymous.tags(repository)
    where = "" if kind == "htpasswd+tls" else " (token service 127.0.0.1)"
    assert str(info.value).startswith(f"registry {served.address}{where} requires credentials and none are"
                                      " configured (next: set registry.username and registry.password")
    if kind == "token":
        scopes = [tuple(r["scope"]) for r in served.token_requests if r["authorised"]]
        assert (f"repository:{repository}:pull",) in scopes and (f"repository:{repository}:delete",) in scopes
        assert () in scopes  # the /v2/ check: a token without a scope proves the credentials


def test_tokens_are_cached_per_scope(tok_registry: Served) -> None:
    repository = f"pytest/cache-{uuid.uuid4().hex[:6]}"
    with RegistryClient(tok_registry.address, credentials=creds()) as client:
        before = len(tok_registry.token_requests)
        for _ in range(3):
            client.tags(repository)
            client.digest(repository, "t1")
        asked = [r["scope"] for r in tok_registry.token_requests[before:]]
        assert asked == [[f"repository:{repository}:pull"]]


@pytest.mark.parametrize("kind", ["htpasswd+tls", "token"])
def test_a_wrong_password_is_one_line_naming_the_registry(kind: str, request: pytest.FixtureRequest) -> None:
    served: Served = request.getfixturevalue("tls_registry" if kind == "htpasswd+tls" else "tok_registry")
    with RegistryClient(served.address, credentials=creds(WRONG), ca=served.ca) as client, \
            pytest.raises(RegistryAuthError) as info:
        client.check()
    text = str(info.value)
    where = "" if kind == "htpasswd+tls" else " (token service 127.0.0.1)"
    assert text == (f"registry {served.address}{where} refused the credentials of user ci (next: check the password"
                    " (secret REGISTRY_PASSWORD) and the user name in shipyard.yaml)")
    assert "\n" not in text and WRONG not in repr(vars(info.value)) and WRONG not in text
    assert info.value.__cause__ is None and info.value.__context__ is None  # no httpx exception chained


def test_untrusted_certificate_and_unreachable_registry(tls_registry: Served, tmp_path: Path) -> None:
    from shipyard.sandbox import tls

    other = tls.ensure("pytest-other-ca", home=tmp_path)
    with RegistryClient(tls_registry.address, credentials=creds(), ca=other.ca) as client, \
            pytest.raises(RegistryUnreachable) as info:
        client.check()
    assert f"registry {tls_registry.address}: its TLS certificate is not trusted" in str(info.value)
    assert "set registry.ca" in str(info.value) and "\n" not in str(info.value)
    address = f"127.0.0.1:{free_port()}"
    with RegistryClient(address) as client, pytest.raises(RegistryUnreachable) as gone:
        client.tags("a/b")
    assert str(gone.value).startswith(f"registry {address} is unreachable:")


# --- through shipyard's own flow ---------------------------------------------------------------------------------
def project(root: Path, served: Served, secret_file: Path, *, ca: bool = True) -> Path:
    root.mkdir(parents=True)
    config = root / "shipyard.yaml"
    config.write_text(f"""\
project: regtest
registry:
  address: {served.address}
  namespace: pytest
  username: {USER}
  password: REGISTRY_PASSWORD
{f"  ca: {served.ca}" if ca and served.ca else ""}
services:
  api:
    port: 8000
secrets:
  REGISTRY_PASSWORD: {{file: {secret_file}}}
environments:
  staging:
    target: vm
    hosts: ["127.0.0.1:1"]
    ssh: {{known_hosts: {root / "known_hosts"}}}
""")
    (root / "Dockerfile").write_text("FROM scratch\nCOPY shipyard.yaml /\n")
    return config


def test_deploy_with_a_wrong_password_stops_before_anything_is_built(tls_registry: Served, tmp_path: Path) -> None:
    secret = tmp_path / "secret" / "registry-password"
    secret.parent.mkdir()
    secret.write_text(WRONG + "\n")
    root = tmp_path / "repo"
    project(root, tls_registry, secret)
    for argv in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "x"]):
        subprocess.run(["git", *argv], cwd=root, check=True, capture_output=True, timeout=60)
    home = tmp_path / "home"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "XDG_CONFIG_HOME": str(home / "cfg")}
    result = subprocess.run([SHIPYARD, "deploy", "--env", "staging"], cwd=root, capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode != 0
    assert result.stderr.strip() == (
        f"error: registry {tls_registry.address} refused the credentials of user ci (next: check the password (secret"
        " REGISTRY_PASSWORD) and the user name in shipyard.yaml)"), result.stderr
    assert WRONG not in result.stdout + result.stderr
    assert "build" not in result.stdout.lower() and "127.0.0.1:1" not in result.stdout + result.stderr
    built = RUN.run(["docker", "image", "ls", "--quiet", f"{tls_registry.address}/pytest/api"], timeout=60).stdout
    assert built.strip() == ""  # nothing was built
    assert not (home / "cfg" / "shipyard" / "docker").exists()  # nobody logged in either


def test_a_canary_password_never_shows(tls_registry: Served, tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                       capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                       pushed: list[str]) -> None:
    """Login, check, push and every API call, with the registry's real password as a canary: it is in no output,
    no log record, no command line, no error, no image layer; the credentials file is only in a mode-700 folder."""
    secret = tmp_path / "secret" / "registry-password"
    secret.parent.mkdir()
    secret.write_text(CANARY + "\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    config_path = project(tmp_path / "repo", tls_registry, secret)
    config = parse(config_path.read_text(), path=config_path)
    target = Target.from_config(config, "staging")
    release = Release(sha=uuid.uuid4().hex[:12])
    ref = target.image("api", release.tag)
    tiny_image(ref, "canary")
    pushed.append(ref)
    said: list[str] = []
    caplog.set_level(logging.DEBUG)
    refs = images.ensure(target, release, LocalRunner(), LocalRunner(), root=config.root, build=False,
                         say=said.append)
    # pinned to the digest the registry stores for the pushed tag (what hosts pull and the ledger records)
    assert refs == {"api": f"{ref.rsplit(':', 1)[0]}@{target.registry_client().digest('pytest/api', release.tag)}"}
    assert images.registry_digest(target, "api", release.tag) == local_digest(ref)
    # a second run finds the image and reuses it; a wrong password fails in one line, without either password
    again = Target.from_config(config, "staging")
    assert images.ensure(again, release, LocalRunner(), LocalRunner(), root=config.root, build=False,
                         say=said.append) == refs
    secret.write_text(WRONG + "\n")
    with pytest.raises(RegistryAuthError) as refused:
        images.ensure(Target.from_config(config, "staging"), release, LocalRunner(), LocalRunner(),
                      root=config.root, build=False, say=said.append)
    logged_in = tmp_path / "cfg" / "shipyard" / "docker" / "regtest"
    assert stat.S_IMODE(logged_in.stat().st_mode) == 0o700 and (logged_in / "config.json").is_file()
    commands = [r.getMessage() for r in caplog.records if "$ docker" in r.getMessage()]
    assert any("login --username ci --password-stdin" in c for c in commands)
    assert any(f"--config {logged_in} push {ref}" in c for c in commands)
    out, err = capfd.readouterr()
    layers = subprocess.run(["docker", "save", ref], capture_output=True, timeout=120, check=True).stdout
    everything = {
        "stdout": out, "stderr": err, "said": "\n".join(said), "log": caplog.text,
        "error": str(refused.value) + repr(vars(refused.value)), "registry log": tls_registry.log.read_text(),
    }
    for where, text in everything.items():
        assert CANARY not in text, where
        assert WRONG not in text, where
    assert CANARY.encode() not in layers
    assert "image " + ref + ": pushing" in said and f"image {ref}: already in the registry (reused)" in said


# --- the sandbox's private registry ------------------------------------------------------------------------------
def test_sandbox_private_registry_is_tls_and_htpasswd(docker_engine: object, tmp_path: Path) -> None:
    from shipyard.commands import host as host_cmd
    from shipyard.sandbox import registry as private

    lines: list[str] = []
    port = free_port()
    address = f"127.0.0.1:{port}"  # not the sandbox's 5443: a developer's sandbox may be using it
    pidfile = private.state_folder(address) / "registry.pid"
    try:
        first = private.ensure("pytest-sandbox", home=tmp_path, printer=lines.append, address=address)
        assert first.address == address
        folder = tmp_path / ".config" / "shipyard" / "sandbox" / "pytest-sandbox"
        for name in ("registry-password", "registry-htpasswd"):
            assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
        password = first.password_file.read_text().strip()
        assert len(password) >= 24 and password not in "\n".join(lines)
        assert "$2b$" in (folder / "registry-htpasswd").read_text()  # bcrypt, the only kind the registry takes
        with first.client() as client:
            assert client.check() == "registry/2.0" and client.base.startswith("https://")
        with RegistryClient(first.address, credentials=creds(WRONG), ca=first.ca) as client, \
                pytest.raises(RegistryAuthError):
            client.check()
        with RegistryClient(first.address, ca=first.ca) as client, pytest.raises(RegistryAuthError):
            client.check()
        if os.geteuid() == 0:  # this machine's engine trusts the sandbox CA too (a warning when not root)
            assert Path(f"/etc/docker/certs.d/{address}/ca.crt").read_text() == first.ca.read_text()
        lines.clear()
        again = private.ensure("pytest-sandbox", home=tmp_path, printer=lines.append, address=address)
        assert again == first and any("answering" in line for line in lines)  # reused, same password
        assert again.password_file.read_text().strip() == password
    finally:
        RUN.run(host_cmd.stop_daemon(str(pidfile)), timeout=60, check=False)
        shutil.rmtree(pidfile.parent, ignore_errors=True)
        shutil.rmtree(f"/etc/docker/certs.d/{address}", ignore_errors=True)


# --- on a host: login as the deploy user, through the SSH tunnel, then pull -------------------------------------
@pytest.mark.ssh
def test_a_host_logs_in_as_the_deploy_user_and_pulls(tls_registry: Served, vm_factory: object, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture,
                                                     capfd: pytest.CaptureFixture[str], pushed: list[str]) -> None:
    import dataclasses

    from shipyard.commands.layout import HostLayout
    from shipyard.plans.bluegreen import Step
    from shipyard.sandbox import hostsetup
    from shipyard.sandbox import registry as private
    from shipyard.targets.registry import HostLogin
    from shipyard.targets.vm.host import StepFailed, VmHost
    from shipyard.testbed import vm as testbed_vm

    repository = f"pytest/host-{uuid.uuid4().hex[:6]}"
    ref = f"{tls_registry.address}/{repository}:t1"
    pushed.append(ref)
    login_and_push(tls_registry, tmp_path / "docker", ref)
    machine = vm_factory(docker=True)  # type: ignore[operator]
    host = testbed_vm.host_for()
    hostsetup.prepare(host, machine.name)  # the droplets' host setup: the non-root deploy user
    assert tls_registry.ca is not None
    served = private.PrivateRegistry(tls_registry.address, USER, tmp_path, tls_registry.ca)
    private.install_ca(host, machine.name, served)  # as cloud-init does on a droplet
    deploy = dataclasses.replace(machine, user=hostsetup.USER)
    layout = HostLayout("regtest")
    port = int(tls_registry.address.rsplit(":", 1)[1])
    pull = Step("pull", "run", f"pull {ref}", ("docker", "--config", layout.docker_config, "pull", ref), timeout=300)
    caplog.set_level(logging.DEBUG)

    wrong = VmHost(deploy.runner(), layout, tunnel_port=port,
                   login=HostLogin(tls_registry.address, USER, layout.docker_config, lambda: WRONG))
    try:
        with pytest.raises(StepFailed) as refused:
            wrong.run_step(pull)
    finally:
        wrong.close()
    assert str(refused.value).startswith(f"[{machine.name}] docker login to {tls_registry.address} as ci failed:")
    assert "\n" not in str(refused.value) and refused.value.phase == "pull"

    good = VmHost(deploy.runner(), layout, tunnel_port=port,
                  login=HostLogin(tls_registry.address, USER, layout.docker_config, lambda: CANARY))
    try:
        good.run_step(pull)
        good.run_step(pull)  # one login per run: the second pull reuses it
        folder = layout.docker_config
        seen = good.runner.run(["sh", "-c", f"stat -c '%U %a' {folder} {folder}/config.json;"
                                            f" docker image inspect --format ok {ref}"], timeout=60).stdout.split("\n")
    finally:
        good.close()
    # the state directory's setgid bit (host-setup.sh: group shipyard) is inherited; group and others get nothing
    assert seen[0] in ("deploy 700", "deploy 2700") and seen[1:3] == ["deploy 600", "ok"], seen
    logins = [r.getMessage() for r in caplog.records if "--password-stdin" in r.getMessage()]
    assert len(logins) == 2 and all(f"--config {layout.docker_config} login --username ci" in m for m in logins)
    out, err = capfd.readouterr()
    for where, text in {"stdout": out, "stderr": err, "log": caplog.text, "error": str(refused.value)}.items():
        assert CANARY not in text and WRONG not in text, where
