"""`deploy --dry-run` is honest about hosts it could not read: it prints the plan for every host it can, then exits
non-zero with one line naming the others (issue 14). A dry run reads the registry for real, so the release's
images are pushed to a real registry (Debian's docker-registry on a free 127.0.0.1 port, no Docker engine needed);
the host is 127.0.0.1 on a port nothing listens on."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from private_registry import push_manifest, serve_registry

from ports import free_port
from tools import need

ROOT = Path(__file__).resolve().parents[2]
INVOKE = str(Path(sys.executable).with_name("invoke"))
SHA = "abcdef123456"  # 12 characters: a release tag that needs no git repository (release.resolve)
CANARY = "canary-plan-json-41c7-never-print-me"  # pragma: allowlist secret


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, int, str]]:
    """A copy of shipyard.yaml whose registry holds api and web at SHA, with an environment `nowhere` whose one
    host does not answer."""
    need("docker-registry", shutil.which("docker-registry") is not None,
         "docker-registry is not installed (apt-get install docker-registry)")
    port, dead = free_port(), free_port()
    address = f"127.0.0.1:{port}"
    from shipyard.testbed.registry import render_config

    folder = tmp_path / "registry"
    folder.mkdir()
    with serve_registry(render_config(address, folder / "storage"), folder, port):
        text = (ROOT / "shipyard.yaml").read_text(encoding="utf-8")
        namespace = next(line.split(":", 1)[1].strip() for line in text.splitlines()
                         if line.strip().startswith("namespace:"))
        for service in ("api", "web"):
            push_manifest(address, f"{namespace}/{service}", SHA)
        (tmp_path / "known_hosts").write_text("")
        start = text.index("  address: ", text.index("\nregistry:"))
        end = text.index("\n", start)
        text = text[:start] + f"  address: {address}" + text[end:]
        text = text.replace("\nenvironments:\n", (
            f"\nenvironments:\n  nowhere:\n    target: vm\n    hosts: ['127.0.0.1:{dead}']\n"
            f"    ssh: {{known_hosts: {tmp_path}/known_hosts, connect_timeout: 2}}\n"
            "    accessories: {postgres: {image: 'postgres:16', port: 5432}, redis: {image: 'redis:7', port: 6379}}\n"),
            1)
        (tmp_path / "shipyard.yaml").write_text(text, encoding="utf-8")
        (tmp_path / "tasks.py").write_text("from shipyard.tasks import namespace\n\nns = namespace()\n")
        yield tmp_path, dead, f"{address}/{namespace}"


def test_a_dry_run_with_an_unreachable_host_prints_what_it_can_and_exits_non_zero(
        project: tuple[Path, int, str]) -> None:
    root, dead, _ = project
    proc = subprocess.run([INVOKE, "deploy", "--env", "nowhere", "--sha", SHA, "--dry-run"], cwd=root,
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(root), "POSTGRES_PASSWORD": "pw-not-used-here"})
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"api:{SHA}: already in the registry (reused)" in proc.stdout  # the registry was read for real
    assert f"[127.0.0.1:{dead}] cannot read this host's accessories: " in proc.stdout
    assert f"[127.0.0.1:{dead}] cannot read this host's facts: " in proc.stdout
    assert f"plan: deploy {SHA} to nowhere" in proc.stdout  # the plan is still printed
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f"error: 1 of 1 host(s) could not be read (127.0.0.1:{dead}): the plan is"
                                   " incomplete (next: check the hosts' address, SSH key and known_hosts;"
                                   " `invoke deploy.status`)")


def test_the_dry_run_plan_as_json_names_the_hosts_it_could_not_read(project: tuple[Path, int, str]) -> None:
    """`--json`: stdout is the shipyard.plan document alone (what the text prints before the plan is in its
    `log`), each unreadable host carries its error, and the exit and the error line are the text output's."""
    root, dead, repository = project
    proc = subprocess.run([INVOKE, "deploy", "--env", "nowhere", "--sha", SHA, "--dry-run", "--json"], cwd=root,
                          capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(root), "POSTGRES_PASSWORD": CANARY})
    assert "Traceback" not in proc.stdout + proc.stderr and CANARY not in proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    host = f"127.0.0.1:{dead}"
    assert doc["schema"] == "shipyard.plan/v1" and doc["ok"] is False
    assert (doc["action"], doc["release"], doc["environment"]) == ("deploy", SHA, "nowhere")
    # in the registry already: each by the digest the hosts would run (a tag could move before they pull)
    assert sorted(doc["images"]) == ["api", "web"]
    for service, ref in doc["images"].items():
        assert re.fullmatch(rf"{re.escape(repository)}/{service}@sha256:[0-9a-f]{{64}}", ref), ref
    assert f"image {repository}/api:{SHA}: already in the registry (reused)" in doc["log"]  # read for real
    assert [(a["host"], a["would_change"]) for a in doc["accessories"]] == [(host, [])]
    assert f"[{host}] unreachable" in doc["accessories"][0]["error"]
    assert [h["host"] for h in doc["hosts"]] == [host]
    assert f"[{host}] unreachable" in doc["hosts"][0]["error"] and doc["hosts"][0]["steps"] == []
    assert proc.returncode == 1
    assert proc.stderr.strip() == (f"error: 1 of 1 host(s) could not be read ({host}): the plan is incomplete"
                                   " (next: check the hosts' address, SSH key and known_hosts;"
                                   " `invoke deploy.status`)")
