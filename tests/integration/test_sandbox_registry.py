"""The sandbox with its private registry (TLS with the sandbox CA, htpasswd), through the real CLI: `sandbox.up`'s
registry, CA installed on the VM, `deploy.setup` and `deploy` as the non-root deploy user pulling through the SSH
tunnel after `docker login`; the generated password appears in no output, ledger line or image layer, and a wrong
one stops the deploy in one line before anything is built or any host changes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from ports import free_port

pytestmark = pytest.mark.ssh
FIXTURE = Path(__file__).parents[1] / "e2e" / "fixtures" / "app"
SHIPYARD = str(Path(sys.executable).with_name("shipyard"))


@dataclass
class Sandbox:
    root: Path
    project: str
    home: Path
    state: object
    address: str

    @property
    def env(self) -> dict[str, str]:
        return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home),
                "XDG_CONFIG_HOME": str(self.home / ".config"), "COLUMNS": "200"}

    def shipyard(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([SHIPYARD, *args], cwd=self.root, capture_output=True, text=True, timeout=timeout,
                              env=self.env)

    def on_vm(self, command: str) -> str:
        name = self.state.vms[0].name  # type: ignore[attr-defined]
        return subprocess.run(["docker", "exec", name, "sh", "-c", command], capture_output=True, text=True,
                              timeout=60, check=True).stdout


@pytest.fixture
def sandbox(docker_engine: object, base_images: dict[str, str], tmp_path: Path,
            monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    from shipyard.commands import host as host_cmd
    from shipyard.run import LocalRunner
    from shipyard.sandbox import registry as private
    from shipyard.sandbox import vms

    project = f"regsbx-{uuid.uuid4().hex[:6]}"
    port = free_port()
    address = f"127.0.0.1:{port}"  # the sandbox's registry, on a port of its own (a developer's may use 5443)
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))  # the sandbox CA, the password and the local Docker login live here
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setattr(private, "ADDRESS", address)
    root = tmp_path / "repo"
    root.mkdir()
    (root / "shipyard.yaml").write_text(f"""\
project: {project}
registry: {{address: 127.0.0.1:5000, namespace: regsbx}}
services:
  app:
    context: app
    dockerfile: app/Dockerfile
    port: 8000
    health: {{liveness: /health, readiness: /ready}}
    public: true
build:
  args: {{BASE_IMAGE: {base_images['python']}}}
""")
    shutil.copytree(FIXTURE, root / "app")
    for argv in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "x"]):
        subprocess.run(["git", *argv], cwd=root, check=True, capture_output=True, timeout=60)
    state = None
    try:
        state = vms.up(root, project, 1, printer=lambda _line: None, health_timeout=30, watch_window=2,
                       private_registry=True)
        yield Sandbox(root, project, home, state, address)
    finally:
        if state is not None:
            vms.down(root, project, printer=lambda _line: None)
        run = LocalRunner(echo=lambda _line: None)
        folder = private.state_folder(address)
        run.run(host_cmd.stop_daemon(str(folder / "registry.pid")), timeout=60, check=False)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(f"/etc/docker/certs.d/{address}", ignore_errors=True)
        listed = run.run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], timeout=60).stdout
        for ref in listed.split():
            if ref.startswith(f"{address}/") or ref.startswith("127.0.0.1:5000/regsbx/app:"):
                run.run(["docker", "image", "rm", "--force", ref], timeout=60, check=False)


def test_sandbox_deploys_through_its_private_registry(sandbox: Sandbox) -> None:
    from shipyard.sandbox import registry as private
    from shipyard.sandbox import tls

    folder = tls.folder(sandbox.project)
    password = (folder / "registry-password").read_text().strip()
    generated = (sandbox.root / ".shipyard" / "sandbox.yaml").read_text()
    assert f"address: {sandbox.address}" in generated and f"password: {private.PASSWORD_SECRET}" in generated
    assert f"ca: {folder / 'ca.pem'}" in generated and password not in generated
    assert sandbox.on_vm(f"cat /etc/docker/certs.d/{sandbox.address}/ca.crt") == (folder / "ca.pem").read_text()

    setup = sandbox.shipyard("deploy.setup", "--env", "sandbox")
    assert setup.returncode == 0, setup.stdout + setup.stderr
    assert f"pulled {sandbox.address}/shipyard-base/haproxy:bookworm" in setup.stdout
    deployed = sandbox.shipyard("deploy", "--env", "sandbox")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert f"registry {sandbox.address}: logging in as sandbox" in deployed.stdout
    http_port = sandbox.state.vms[0].http_port  # type: ignore[attr-defined]
    assert httpx.get(f"http://127.0.0.1:{http_port}/ready", timeout=10).status_code == 200

    layout = f"/var/lib/shipyard/{sandbox.project}"
    modes = sandbox.on_vm(f"stat -c '%U %a' {layout}/docker {layout}/docker/config.json").split("\n")
    assert modes[0] in ("deploy 700", "deploy 2700") and modes[1] == "deploy 600", modes
    ledger = sandbox.on_vm(f"cat {layout}/ledger.jsonl")
    listed = subprocess.run(["docker", "image", "ls", "--format", "{{.Repository}}:{{.Tag}}",
                             f"{sandbox.address}/regsbx/app"], capture_output=True, text=True, timeout=60)
    pushed = listed.stdout.split()
    assert pushed, "the app image was not tagged for the private registry"
    layers = subprocess.run(["docker", "save", pushed[0]], capture_output=True, timeout=300, check=True).stdout
    for where, text in {"setup": setup.stdout + setup.stderr, "deploy": deployed.stdout + deployed.stderr,
                        "ledger": ledger}.items():
        assert password not in text, where
    assert password.encode() not in layers

    # a wrong password: one line naming the registry, before anything is built, and the host is unchanged
    (folder / "registry-password").write_text("wrong-" + uuid.uuid4().hex + "\n")
    (sandbox.root / "app" / "server.py").write_text((sandbox.root / "app" / "server.py").read_text() + "\n# v2\n")
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qam", "v2"], cwd=sandbox.root,
                   check=True, capture_output=True, timeout=60)
    refused = sandbox.shipyard("deploy", "--env", "sandbox")
    assert refused.returncode != 0
    assert refused.stderr.strip().startswith(f"error: registry {sandbox.address} refused the credentials of user"
                                             " sandbox"), refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "building" not in refused.stdout.lower()
    assert sandbox.on_vm(f"cat {layout}/ledger.jsonl") == ledger  # no host was touched
