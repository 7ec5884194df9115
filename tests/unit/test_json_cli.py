"""`--json` through the real `invoke`, on a temporary copy of this repository's shipyard.yaml: stdout is exactly one
JSON document or nothing, errors stay one line on stderr, and the exit code is the one the text output has
(docs/JSON.md). Hosts are 127.0.0.1 ports nothing listens on; no registry is needed. No cluster runs here either,
so for k8s.status a small stand-in `kubectl` answers the three read-only queries it makes with a recorded
`kubectl get -o json` (as tests/integration/test_k8s_deploy_flow.py does)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ports import free_port

ROOT = Path(__file__).resolve().parents[2]
INVOKE = str(Path(sys.executable).with_name("invoke"))
CANARY = "canary-cli-json-8d2f-never-print-me"  # pragma: allowlist secret
NAMES = ("shipyard-ref-sandbox-3", "shipyard-ref-sandbox-4")
STAGING_HOSTS = ("      - {address: staging-1.example.com, private_address: 10.10.0.2}\n"
                 "      - {address: staging-2.example.com, private_address: 10.10.0.3}\n"
                 "    ssh: {user: deploy, key: ~/.ssh/shipyard_staging, known_hosts: ~/.ssh/known_hosts}\n")


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def doc(self) -> dict[str, Any]:
        """stdout parsed: it must be one JSON document and nothing else."""
        loaded: dict[str, Any] = json.loads(self.stdout)
        return loaded

    def one_error_line(self) -> str:
        lines = self.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), self.stderr
        assert "Traceback" not in self.stdout + self.stderr
        return lines[0]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "shipyard.yaml").write_bytes((ROOT / "shipyard.yaml").read_bytes())
    (tmp_path / "tasks.py").write_text("from shipyard.tasks import namespace\n\nns = namespace()\n")
    return tmp_path


def invoke(root: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    proc = subprocess.run([INVOKE, *args], cwd=root, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(root), **(env or {})})
    return Run(proc.returncode, proc.stdout, proc.stderr)


def edit(root: Path, old: str, new: str) -> str:
    path = root / "shipyard.yaml"
    text = path.read_text()
    assert old in text, old
    text = text.replace(old, new, 1)
    path.write_text(text)
    return text


def unreachable_staging(root: Path) -> list[int]:
    """staging's two hosts become 127.0.0.1 ports nothing listens on, with long names; the registry too."""
    ports = [free_port(), free_port()]
    (root / "known_hosts").write_text("")
    hosts = "".join(f"      - {{address: 127.0.0.1, port: {port}, name: {name}, private_address: 10.10.0.{i + 2}}}\n"
                    for i, (port, name) in enumerate(zip(ports, NAMES, strict=True)))
    edit(root, STAGING_HOSTS, hosts + f"    ssh: {{known_hosts: {root}/known_hosts, connect_timeout: 2}}\n")
    edit(root, "  address: 127.0.0.1:5000", f"  address: 127.0.0.1:{free_port()}")
    return ports


# --- config.check ------------------------------------------------------------------------------------------------

def test_config_check_json_of_a_valid_file(project: Path) -> None:
    run = invoke(project, "config.check", "--json")
    assert run.code == 0 and run.stderr == "", run.stderr
    doc = run.doc()
    assert doc["schema"] == "shipyard.config-check/v1" and doc["ok"] is True and doc["problems"] == []
    assert doc["file"] == str(project / "shipyard.yaml") and doc["project"] == "shipyard-demo"
    assert doc["services"] == ["api", "web"]
    assert doc["environments"]["production"] == {"target": "vm", "require_approval": True}
    assert doc["environments"]["dev"] == {"target": "compose", "require_approval": False}


def test_config_check_json_of_a_broken_file_lists_every_problem_and_exits_2(project: Path) -> None:
    edit(project, "    port: 8000\n", "    port: x\n")
    text = edit(project, "address: staging-2.example.com", "address: bad host")
    run = invoke(project, "config.check", "--json")
    assert run.code == 2
    doc = run.doc()
    assert doc["schema"] == "shipyard.config-check/v1" and doc["ok"] is False and doc["project"] is None
    line_of = {snippet: text[:text.index(snippet)].count("\n") + 1 for snippet in ("port: x", "bad host")}
    assert [(p["file"], p["line"], p["path"], p["message"]) for p in doc["problems"]] == [
        ("shipyard.yaml", line_of["port: x"], "services.api.port", "must be an integer"),
        ("shipyard.yaml", line_of["bad host"], "environments.staging.hosts[1].address",
         "not a host name or address")]
    assert run.one_error_line() == (f"error: {doc['problems'][0]['text']} (and 1 more problem(s); run `shipyard"
                                    " config.check`)")


def test_config_check_json_of_what_an_environment_lacks(project: Path) -> None:
    edit(project, "      REDIS_URL: redis://${accessories.redis.host}:${accessories.redis.port}/0\n", "")
    run = invoke(project, "config.check", "--json")
    assert run.code == 2
    doc = run.doc()
    assert doc["ok"] is False and doc["project"] == "shipyard-demo"  # it parsed: what it declares is reported
    assert {(p["line"], p["path"]) for p in doc["problems"]} == {(None, None)}
    assert [p["message"] for p in doc["problems"]] == [
        f"environment '{env}': service api requires REDIS_URL, which neither its env nor its secrets provide"
        for env in ("staging", "production")]
    run.one_error_line()


def test_config_check_json_of_a_missing_file_is_the_one_line_error_and_no_document(project: Path) -> None:
    run = invoke(project, "config.check", "--json", "--file", "absent.yaml")
    assert run.code == 1 and run.stdout == ""
    assert run.one_error_line() == f"error: {project / 'absent.yaml'}: file not found"


# --- release.info ------------------------------------------------------------------------------------------------

def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root,
                          check=True, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin",
                                                                          "HOME": str(root)}).stdout.strip()


def test_release_info_json_in_a_git_repository(project: Path) -> None:
    git(project, "init", "-q", "-b", "trunk")
    git(project, "add", ".")
    git(project, "commit", "-q", "-m", "first")
    git(project, "tag", "v1.2.3")
    sha = git(project, "rev-parse", "HEAD")
    run = invoke(project, "release.info", "--json", "--env", "staging")
    assert run.code == 0 and run.stderr == "", run.stderr
    assert run.doc() == {
        "schema": "shipyard.release/v1", "sha": sha, "short_sha": sha[:12], "tag": sha[:12], "branch": "trunk",
        "version": "1.2.3", "dirty": False, "environment": "staging",
        "registry": {"address": "127.0.0.1:5000", "namespace": "shipyard"},
        "images": {"api": f"127.0.0.1:5000/shipyard/api:{sha[:12]}", "web": f"127.0.0.1:5000/shipyard/web:{sha[:12]}"}}

    (project / "tasks.py").write_text("# changed\n" + (project / "tasks.py").read_text())
    refused = invoke(project, "release.info", "--json")
    assert refused.code == 1 and refused.stdout == ""  # an error before the document: no document at all
    assert "working tree has uncommitted changes (tasks.py)" in refused.one_error_line()
    dirty = invoke(project, "release.info", "--json", "--allow-dirty").doc()
    assert dirty["dirty"] is True and dirty["tag"] == f"{sha[:12]}-dirty" and dirty["environment"] is None


# --- deploy.status, deploy.releases, the dry-run plan ---------------------------------------------------------------

@pytest.mark.parametrize(("task", "kind", "what"), [
    ("deploy.status", "status", "their status is unknown"),
    ("deploy.releases", "releases", "their ledger is unknown"),
])
def test_unreachable_hosts_are_in_the_document_and_the_exit_is_1(project: Path, task: str, kind: str,
                                                                 what: str) -> None:
    ports = unreachable_staging(project)
    run = invoke(project, task, "--env", "staging", "--json")
    assert run.code == 1
    doc = run.doc()
    assert doc["schema"] == f"shipyard.{kind}/v1" and doc["environment"] == "staging" and doc["ok"] is False
    assert [h["host"] for h in doc["hosts"]] == list(NAMES)  # whole names, in shipyard.yaml's order
    for host, port in zip(doc["hosts"], ports, strict=True):
        assert f"unreachable: Unable to connect to port {port} on 127.0.0.1" in host["error"]
        assert host.get("services", host.get("entries")) == []
    assert run.one_error_line() == (f"error: 2 of 2 host(s) could not be read ({', '.join(NAMES)}): {what} (next:"
                                    " check the hosts' address, SSH key and known_hosts; `invoke deploy.status`)")
    plain = invoke(project, task, "--env", "staging")
    assert plain.code == 1 and plain.stderr == run.stderr  # the same exit and error line as the text output
    assert [line.split("]")[0][1:] for line in plain.stdout.splitlines()] == list(NAMES)


def test_rollback_plan_json_when_no_host_answers_is_the_one_line_error_only(project: Path) -> None:
    unreachable_staging(project)
    run = invoke(project, "rollback", "--env", "staging", "--dry-run", "--json",
                 env={"POSTGRES_PASSWORD": CANARY})
    assert run.code == 1 and run.stdout == ""
    assert run.one_error_line() == "error: no host of 'staging' answered; cannot read the ledger to roll back"
    assert CANARY not in run.stdout + run.stderr


def test_deploy_plan_json_with_the_registry_down_is_the_one_line_error_only(project: Path) -> None:
    unreachable_staging(project)
    run = invoke(project, "deploy", "--env", "staging", "--sha", "abcdef123456", "--dry-run", "--json",
                 env={"POSTGRES_PASSWORD": CANARY})
    assert run.code == 1 and run.stdout == ""  # nothing the dry run said before failing leaks onto stdout
    assert "127.0.0.1:" in run.one_error_line()
    assert CANARY not in run.stdout + run.stderr


@pytest.mark.parametrize("args", [["deploy", "--env", "staging", "--sha", "abcdef123456"],
                                  ["deploy.staging", "--sha", "abcdef123456"],
                                  ["rollback", "--env", "staging"]])
def test_json_without_dry_run_is_refused_before_anything_runs(project: Path, args: list[str]) -> None:
    unreachable_staging(project)
    run = invoke(project, *args, "--json", env={"POSTGRES_PASSWORD": CANARY})
    assert run.code == 1 and run.stdout == ""
    assert run.one_error_line() == ("error: --json prints the plan of a dry run; nothing was run (next: add"
                                    " --dry-run)")


# --- k8s.status --------------------------------------------------------------------------------------------------

KUBECTL = r'''#!{python}
import os, sys
args = sys.argv[1:]
if args[:2] == ["config", "get-contexts"]:
    print("do-staging")
elif "version" in args:
    if os.environ.get("STUB_DOWN"):
        sys.stderr.write("The connection to the server 127.0.0.1:6443 was refused\n")
        sys.exit(1)
    print('{{"serverVersion": {{"gitVersion": "v1.31.2"}}}}')
elif "get" in args and "--output" in args:
    sys.stdout.write(open({workloads!r}).read())
else:
    sys.stderr.write("unexpected: " + " ".join(args) + "\n")
    sys.exit(3)
'''


@pytest.fixture
def cluster(project: Path) -> dict[str, str]:
    """A stand-in kubectl on PATH for the context do-staging, and the overlay k8s-staging names."""
    bin_dir = project / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(KUBECTL.format(python=sys.executable,
                                      workloads=str(Path(__file__).parent / "recorded" / "k8s" / "get_workloads.json")))
    kubectl.chmod(0o755)
    overlay = project / "k8s" / "overlays" / "staging"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("resources: []\n")
    return {"PATH": f"{bin_dir}:/usr/bin:/bin"}


def test_k8s_status_json(project: Path, cluster: dict[str, str]) -> None:
    from shipyard.facts.k8s import parse_workloads

    expected = parse_workloads((Path(__file__).parent / "recorded" / "k8s" / "get_workloads.json").read_text())
    run = invoke(project, "k8s.status", "--env", "k8s-staging", "--json", env=cluster)
    assert run.code == 0 and run.stderr == "", run.stderr
    doc = run.doc()
    assert doc["schema"] == "shipyard.k8s-status/v1" and doc["environment"] == "k8s-staging"
    assert (doc["context"], doc["namespace"]) == ("do-staging", "shipyard")
    assert [(w["kind"], w["name"], w["ready"], w["desired"], w["images"]) for w in doc["workloads"]] == [
        (w.kind, w.name, w.ready, w.desired, list(w.images)) for w in expected]
    assert doc["healthy"] is all(w.healthy for w in expected)
    plain = invoke(project, "k8s.status", "--env", "k8s-staging", env=cluster)
    assert plain.code == 0 and plain.stdout.splitlines()[0].startswith(f"{expected[0].kind.lower()}/")


def test_k8s_status_json_of_an_unreachable_cluster_is_the_one_line_error_only(project: Path,
                                                                             cluster: dict[str, str]) -> None:
    run = invoke(project, "k8s.status", "--env", "k8s-staging", "--json", env={**cluster, "STUB_DOWN": "1"})
    assert run.code == 1 and run.stdout == ""
    assert run.one_error_line().startswith("error: cannot reach the cluster of context 'do-staging': The connection"
                                           " to the server 127.0.0.1:6443 was refused")
