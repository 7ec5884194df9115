"""The deploy/rollback/secrets orchestration against stand-in `kubectl` and `helm` executables.

No cluster runs here, so two small real programs take kubectl's and helm's place on PATH: they record each
argv (and stdin), answer the read-only queries the way the real tools do, and fail where a test tells them to.
`kubectl kustomize` is passed through to the real kubectl, so rendering stays real. The cluster test
(test_k8s_cluster.py) runs the same code against a real cluster where one is reachable.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from k8s_support import ROOT, config, need_renderers
from private_registry import push_manifest

from shipyard.commands import kubectl
from shipyard.errors import ShipyardError
from shipyard.release import Release
from shipyard.run import LocalRunner
from shipyard.targets.kubernetes import DeployError, KubernetesTarget

SHA = "0123456789abcdef0123456789abcdef01234567"
CANARY = "canary-k8s-7f3e-never-print-me"
REAL_KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"

STUB = r'''#!{python}
import json, os, sys
tool = os.path.basename(sys.argv[0])
args = sys.argv[1:]
line = " ".join(args)
record = {{"tool": tool, "argv": args}}
if "-" in args and "--filename" in args:
    record["stdin"] = sys.stdin.read()
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(json.dumps(record) + "\n")
if tool == "kubectl" and args[:1] == ["kustomize"]:
    os.execv({real!r}, [{real!r}, *args])
fail = os.environ.get("STUB_FAIL_ON")
if fail and fail in line:
    sys.stderr.write("error: stub failure for " + fail + "\n")
    sys.exit(1)
if tool == "kubectl":
    if args[:2] == ["config", "get-contexts"]:
        print(os.environ.get("STUB_CONTEXTS", "").replace(",", "\n"))
    elif args[:2] == ["config", "current-context"]:
        current = os.environ.get("STUB_CURRENT")
        if not current:
            sys.stderr.write("error: current-context is not set\n"); sys.exit(1)
        print(current)
    elif "version" in args and "--client" not in args:
        if os.environ.get("STUB_UNREACHABLE"):
            sys.stderr.write("The connection to the server 127.0.0.1:6443 was refused\n")
            sys.exit(1)
        print(json.dumps({{"serverVersion": {{"gitVersion": "v1.31.2"}}}}))
    elif "get" in args and "namespace" in args:
        sys.exit(0 if os.environ.get("STUB_NAMESPACE_EXISTS") else 1)
    elif "get" in args and "replicasets" in args:
        print(os.environ.get("STUB_REPLICASETS", '{{"items": []}}'))
    elif "get" in args and "deployments,statefulsets" in args and os.environ.get("STUB_WORKLOADS"):
        print(open(os.environ["STUB_WORKLOADS"]).read())
elif tool == "helm":
    if args[:1] == ["version"]:
        print(os.environ.get("STUB_HELM_VERSION", "v4.0.1"))
    elif "history" in args:
        history = os.environ.get("STUB_HELM_HISTORY")
        if not history:
            sys.stderr.write("Error: release: not found\n"); sys.exit(1)
        print(history)
    elif args[2:4] == ["get", "values"] or args[4:6] == ["get", "values"] or "values" in args:
        tags = dict(pair.split("=") for pair in os.environ.get("STUB_HELM_TAGS", "").split(",") if pair)
        revision = next(a.split("=", 1)[1] for a in args if a.startswith("--revision="))
        print(json.dumps({{"image": {{"tag": tags[revision]}}}} if revision in tags else {{}}))
'''


@pytest.fixture
def stubs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    need_renderers()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("kubectl", "helm"):
        path = bin_dir / tool
        path.write_text(STUB.format(python=sys.executable, real=REAL_KUBECTL))
        path.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STUB_LOG", str(log))
    monkeypatch.setenv("STUB_CONTEXTS", "minikube,do-staging,do-production")
    monkeypatch.setenv("STUB_CURRENT", "minikube")
    for name in ("STUB_FAIL_ON", "STUB_UNREACHABLE", "STUB_HELM_HISTORY", "STUB_NAMESPACE_EXISTS"):
        monkeypatch.delenv(name, raising=False)
    return log


def calls(log: Path, tool: str | None = None) -> list[dict]:  # type: ignore[type-arg]
    rows = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return [r for r in rows if tool is None or r["tool"] == tool]


def verbs(log: Path) -> list[str]:
    out = []
    for row in calls(log):
        argv = [a for a in row["argv"] if not a.startswith("--")]
        skip = {"minikube", "do-staging", "do-production", "shipyard"}
        words = [a for a in argv if a not in skip]
        out.append(f"{row['tool']} {' '.join(words[:3])}".strip())
    return out


def target(env: str) -> KubernetesTarget:
    return KubernetesTarget(config(), env, LocalRunner(echo=lambda _line: None), echo=lambda _line: None)


def test_kustomize_deploy_runs_the_plan_in_order(stubs: Path) -> None:
    target("k8s-dev").deploy(Release(sha=SHA))
    sequence = verbs(stubs)
    expected = ["kubectl config get-contexts", "kubectl config current-context", "kubectl version"]
    assert [v.startswith(e) for v, e in zip(sequence, expected, strict=False)] == [True, True, True]
    apply_at = next(i for i, v in enumerate(sequence) if v.startswith("kubectl apply"))
    after = sequence[apply_at:]
    assert [v for v in after if "rollout" in v] == [
        "kubectl rollout status deployment/shipyard-redis", "kubectl rollout status statefulset/shipyard-postgres",
        "kubectl rollout status deployment/shipyard-api", "kubectl rollout status deployment/shipyard-web"]
    assert after[-1].startswith("kubectl run shipyard-health-0123456789ab-")
    assert not any("undo" in v for v in sequence)


def test_failed_health_check_undoes_the_deploy(stubs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUB_FAIL_ON", "run shipyard-health")
    with pytest.raises(DeployError) as info:
        target("k8s-staging").deploy(Release(sha=SHA))
    message = str(info.value)
    assert "failed at health" in message and "undo completed" in message and "\n" not in message
    sequence = verbs(stubs)
    health_at = next(i for i, v in enumerate(sequence) if v.startswith("kubectl run"))
    assert sequence[health_at + 1:] == [
        "kubectl rollout undo deployment/shipyard-api", "kubectl rollout undo deployment/shipyard-web",
        "kubectl rollout status deployment/shipyard-api", "kubectl rollout status deployment/shipyard-web"]


def test_failed_apply_changes_nothing_more(stubs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUB_FAIL_ON", "apply --kustomize")
    with pytest.raises(DeployError, match="failed at apply"):
        target("k8s-staging").deploy(Release(sha=SHA))
    assert verbs(stubs)[-1].startswith("kubectl apply")


def test_production_refused_on_another_context(stubs: Path) -> None:
    with pytest.raises(ShipyardError, match=r"current kube context is 'minikube'.*do-production"):
        target("k8s-production").deploy(Release(sha=SHA))
    assert not [v for v in verbs(stubs) if "apply" in v or "rollout" in v]


def test_production_allowed_on_its_context(stubs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUB_CURRENT", "do-production")
    target("k8s-production").deploy(Release(sha=SHA))
    applies = [r["argv"] for r in calls(stubs, "kubectl") if "apply" in r["argv"]]
    assert applies and applies[0][:3] == ["--context", "do-production", "apply"]


def test_unknown_context_and_unreachable_cluster(stubs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUB_CONTEXTS", "kind-other")
    with pytest.raises(ShipyardError, match=r"kube context 'minikube' .* is not in your kubeconfig"):
        target("k8s-dev").status()
    monkeypatch.setenv("STUB_CONTEXTS", "minikube")
    monkeypatch.setenv("STUB_UNREACHABLE", "1")
    with pytest.raises(ShipyardError, match="cannot reach the cluster of context 'minikube': The connection"):
        target("k8s-dev").status()


def test_missing_tools_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ShipyardError, match=r"^kubectl is not installed or not on PATH") as info:
        target("k8s-dev").status()
    assert "install kubectl" in str(info.value)
    (tmp_path / "kubectl").symlink_to(REAL_KUBECTL)
    with pytest.raises(ShipyardError, match=r"^helm is not installed"):
        target("k8s-dev-helm").rollback(None)


def test_helm_deploy_undoes_to_previous_revision(stubs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUB_HELM_VERSION", "v3.16.2")
    monkeypatch.setenv("STUB_HELM_HISTORY", json.dumps([{"revision": 4, "status": "deployed", "chart": "c",
                                                         "app_version": "a", "description": "d"}]))
    monkeypatch.setenv("STUB_FAIL_ON", "test shipyard")
    with pytest.raises(DeployError, match="failed at health"):
        target("k8s-dev-helm").deploy(Release(sha=SHA))
    helm_calls = [r["argv"] for r in calls(stubs, "helm")]
    upgrade = next(a for a in helm_calls if "upgrade" in a)
    assert "--atomic" in upgrade and "--wait" in upgrade  # helm 3 spelling
    assert helm_calls[-1][4:7] == ["rollback", "shipyard", "4"]


def test_helm_rollback_to_sha_finds_the_revision(stubs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history = [{"revision": n, "status": "superseded", "chart": "c", "app_version": "a", "description": "d"}
               for n in (1, 2, 3)]
    monkeypatch.setenv("STUB_HELM_HISTORY", json.dumps(history))
    with pytest.raises(ShipyardError, match="no retained revision of release shipyard deployed abcdef1"):
        target("k8s-dev-helm").rollback("abcdef1")  # the stub's `get values` prints nothing: no tags known


def replicaset(deployment: str, revision: int, release: str | None, replicas: int) -> dict:  # type: ignore[type-arg]
    annotations = {"deployment.kubernetes.io/revision": str(revision)}
    if release:
        annotations["kubernetes.io/change-cause"] = f"shipyard release {release}"
    return {"metadata": {"name": f"{deployment}-{revision}", "annotations": annotations,
                         "creationTimestamp": f"2026-11-30T10:0{revision}:00Z",
                         "ownerReferences": [{"kind": "Deployment", "name": deployment}]},
            "status": {"replicas": replicas}}


def test_history_comes_from_the_cluster_rollout_revisions(stubs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = [replicaset("shipyard-api", 2, "bbbb2222bbbb", 2), replicaset("shipyard-api", 1, "aaaa1111aaaa", 0),
             replicaset("shipyard-web", 1, None, 1)]  # applied by hand: not a Shipyard release
    monkeypatch.setenv("STUB_REPLICASETS", json.dumps({"items": items}))
    revisions = target("k8s-dev").history()
    assert [(r.workload, r.revision, r.release, r.live) for r in revisions] == [
        ("deployment/shipyard-api", 1, "aaaa1111aaaa", False), ("deployment/shipyard-api", 2, "bbbb2222bbbb", True),
        ("deployment/shipyard-web", 1, None, True)]
    (get,) = [r for r in calls(stubs, "kubectl") if "replicasets" in r["argv"]]
    assert get["argv"][-2:] == ["--selector", "app.kubernetes.io/part-of=shipyard"]


def test_history_comes_from_helm_revisions_and_their_values(stubs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    history = [{"revision": n, "status": s, "chart": "c", "app_version": "a", "description": d,
                "updated": f"2026-11-30T10:0{n}:00Z"}
               for n, s, d in ((1, "superseded", "Install complete"), (2, "deployed", "Upgrade complete"))]
    monkeypatch.setenv("STUB_HELM_HISTORY", json.dumps(history))
    monkeypatch.setenv("STUB_HELM_TAGS", "1=aaaa1111aaaa,2=bbbb2222bbbb")
    revisions = target("k8s-dev-helm").history()
    assert [(r.revision, r.release, r.live, r.detail) for r in revisions] == [
        (1, "aaaa1111aaaa", False, "superseded: Install complete"),
        (2, "bbbb2222bbbb", True, "deployed: Upgrade complete")]


def test_secrets_travel_on_stdin_only(stubs: Path, monkeypatch: pytest.MonkeyPatch,
                                      capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("POSTGRES_PASSWORD", CANARY)
    keys = target("k8s-dev").apply_secrets()
    assert keys == ["POSTGRES_PASSWORD"]
    rows = calls(stubs, "kubectl")
    assert any(r["argv"][-3:] == ["create", "namespace", "shipyard"] for r in rows)
    (applied,) = [r for r in rows if "apply" in r["argv"]]
    assert applied["argv"] == ["--context", "minikube", "--namespace", "shipyard", "apply", "--filename", "-"]
    secret = json.loads(applied["stdin"])
    assert secret["kind"] == "Secret" and secret["metadata"]["name"] == "shipyard-secrets"
    assert base64.b64decode(secret["data"]["POSTGRES_PASSWORD"]).decode() == CANARY
    out, err = capfd.readouterr()
    everything = out + err + json.dumps([r["argv"] for r in rows])
    assert CANARY not in everything
    assert base64.b64encode(CANARY.encode()).decode() not in out + err


def test_cli_errors_are_one_line_without_traceback(stubs: Path) -> None:
    # Approved (CI's marker), yet refused: a gated environment is changed only from its own kube context.
    env = {**os.environ, "SHIPYARD_CONFIG": str(ROOT / "shipyard.yaml"), "SHIPYARD_APPROVED": "1"}
    proc = subprocess.run([sys.executable, "-m", "invoke", "k8s.deploy", "--env", "k8s-production", "--sha", SHA],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: refusing to change k8s-production")


def test_cli_dry_run_secrets_never_show_values(stubs: Path) -> None:
    env = {**os.environ, "POSTGRES_PASSWORD": CANARY}
    proc = subprocess.run([sys.executable, "-m", "invoke", "k8s.secrets", "--env", "k8s-dev", "--dry-run"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "would run: kubectl --context minikube --namespace shipyard apply --filename -" in proc.stdout
    assert CANARY not in proc.stdout + proc.stderr
    assert not [r for r in calls(stubs) if "apply" in r["argv"]]  # the dry run touched nothing


def test_cli_short_sha_is_expanded_or_refused(stubs: Path, registry: str) -> None:
    """The same --sha rule as a VM deploy, and the same release step: the images of a given SHA must be in the
    registry (pushed here, tiny), and a deploy ships before it touches the cluster."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True,
                          timeout=30).stdout.strip()
    missing = subprocess.run([sys.executable, "-m", "invoke", "k8s.deploy", "--env", "k8s-dev-helm", "--sha",
                              head[:7], "--dry-run"], cwd=ROOT, capture_output=True, text=True, timeout=120,
                             check=False)
    if "neither in the registry nor on this machine" in missing.stderr:  # a fresh registry: ship them first
        assert missing.returncode == 1 and missing.stderr.count("\n") == 1, missing.stderr
        assert not [r for r in calls(stubs) if "upgrade" in r["argv"]]  # refused before the cluster was touched
        for service in ("api", "web"):  # only when missing: a real image of HEAD is never overwritten
            push_manifest(registry, f"shipyard/{service}", head[:12])
    ok = subprocess.run([sys.executable, "-m", "invoke", "k8s.deploy", "--env", "k8s-dev-helm", "--sha", head[:7],
                         "--dry-run"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert ok.returncode == 0, ok.stderr
    assert f"--set-string image.tag={head[:12]}" in ok.stdout
    assert f"image {registry}/shipyard/api:{head[:12]}: already in the registry (reused)" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "invoke", "k8s.deploy", "--env", "k8s-dev-helm", "--sha", "abcdef1",
                          "--dry-run"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1
    assert "too short to be an image tag" in bad.stderr


def test_cli_kustomize_rollback_to_a_sha_runs_each_image_by_its_digest(stubs: Path, registry: str) -> None:
    """Kustomize keeps no revisions, so `rollback --sha` deploys that release again: through the same release step
    as a deploy (nothing built; the images must be in the registry), each image pinned to the digest the registry
    holds for its tag, as a VM rollback runs the digest its ledger recorded, never a tag that could have moved."""
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True,
                          timeout=30).stdout.strip()
    digests = {}
    for service in ("api", "web"):
        digests[service] = registry_digest(registry, f"shipyard/{service}", head[:12])
        if digests[service] is None:  # only when missing: a real image of HEAD is never overwritten
            push_manifest(registry, f"shipyard/{service}", head[:12])
            digests[service] = registry_digest(registry, f"shipyard/{service}", head[:12])
    proc = subprocess.run([sys.executable, "-m", "invoke", "rollback", "--env", "k8s-dev", "--sha", head[:7],
                           "--dry-run"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    for service, digest in digests.items():
        assert f"#     digest: {digest}" in proc.stdout, proc.stdout
        assert f"image {registry}/shipyard/{service}:{head[:12]}: already in the registry (reused)" in proc.stdout
    assert "would run: kubectl --context minikube apply --kustomize" in proc.stdout
    assert not [r for r in calls(stubs) if "apply" in r["argv"]]  # a dry run: the cluster was not touched
    # --json: the same plan as one shipyard.plan document, and nothing else on stdout (the k8s.* alias too)
    doc = subprocess.run([sys.executable, "-m", "invoke", "k8s.rollback", "--env", "k8s-dev", "--sha", head[:7],
                          "--dry-run", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert doc.returncode == 0, doc.stderr
    plan = json.loads(doc.stdout)
    assert (plan["schema"], plan["action"], plan["target"], plan["release"]) == (
        "shipyard.plan/v1", "rollback", "kubernetes", head[:12])
    assert {s: ref.rsplit("@", 1)[1] for s, ref in plan["images"].items()} == digests
    assert plan["commands"][0]["argv"][:5] == ["kubectl", "--context", "minikube", "apply", "--kustomize"]
    assert any("already in the registry (reused)" in line for line in plan["log"])


def registry_digest(registry: str, repository: str, tag: str) -> str | None:
    import httpx

    response = httpx.head(f"http://{registry}/v2/{repository}/manifests/{tag}", timeout=10, headers={
        "Accept": "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"})
    return response.headers["docker-content-digest"] if response.status_code == 200 else None


def test_cli_the_release_scenario_through_the_top_level_verbs(stubs: Path, registry: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Deploy A, deploy B, status, releases, rollback to A: the same top-level commands as on the compose and VM
    targets, on a Kubernetes environment, by the exact kubectl commands they run (the cluster test runs them
    against a real cluster where one exists). Each deploy applies its own release, each image by its digest."""
    def sha(ref: str) -> str:
        return subprocess.run(["git", "rev-parse", ref], cwd=ROOT, capture_output=True, text=True, check=True,
                              timeout=30).stdout.strip()

    def invoke(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=180, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc

    def applied(since: int) -> list[list[str]]:
        return [r["argv"] for r in calls(stubs, "kubectl")[since:] if "apply" in r["argv"]]

    a, b = sha("HEAD~1")[:12], sha("HEAD")[:12]
    digests: dict[str, dict[str, str]] = {}
    for tag in (a, b):
        for service in ("api", "web"):
            if registry_digest(registry, f"shipyard/{service}", tag) is None:  # a real image is never overwritten
                push_manifest(registry, f"shipyard/{service}", tag)
            digest = registry_digest(registry, f"shipyard/{service}", tag)
            assert digest is not None
            digests.setdefault(tag, {})[service] = digest
    ctx = ["--context", "minikube"]
    for tag in (a, b):
        before = len(calls(stubs))
        out = invoke("deploy", "--env", "k8s-dev", "--sha", tag).stdout
        assert [argv[:3] for argv in applied(before)] == [[*ctx, "apply"]], applied(before)
        assert applied(before)[0][3] == "--kustomize"
        rollouts = [r["argv"] for r in calls(stubs, "kubectl")[before:] if "rollout" in r["argv"]]
        assert [argv[-2] for argv in rollouts] == ["deployment/shipyard-redis", "statefulset/shipyard-postgres",
                                                   "deployment/shipyard-api", "deployment/shipyard-web"]
        assert all(f"image 127.0.0.1:5000/shipyard/{s}:{tag}: pinned to {digests[tag][s]}" in out
                   for s in ("api", "web")), out

    monkeypatch.setenv("STUB_WORKLOADS", str(Path(__file__).parents[1] / "unit" / "recorded" / "k8s" /
                                             "get_workloads.json"))
    before = len(calls(stubs))
    status = invoke("status", "--env", "k8s-dev").stdout
    assert "deployment/shipyard-api" in status
    reads = [r["argv"] for r in calls(stubs, "kubectl")[before:] if "get" in r["argv"]]
    assert reads == [kubectl.get_json("minikube", "shipyard", ["deployments", "statefulsets"],
                                      "app.kubernetes.io/part-of=shipyard")[1:]], reads

    history = {"items": [replicaset("shipyard-api", 1, a, 0), replicaset("shipyard-api", 2, b, 2)]}
    monkeypatch.setenv("STUB_REPLICASETS", json.dumps(history))
    releases = json.loads(invoke("releases", "--env", "k8s-dev", "--json").stdout)
    assert [(r["release"], r["live"]) for r in releases["revisions"]] == [(a, False), (b, True)]

    before = len(calls(stubs))
    back = invoke("rollback", "--env", "k8s-dev", "--sha", a).stdout
    assert [argv[:3] for argv in applied(before)] == [[*ctx, "apply"]]
    for service, digest in digests[a].items():  # A again, each image by its digest, never a tag that moved
        assert f"image 127.0.0.1:5000/shipyard/{service}:{a}: pinned to {digest}" in back, back
    assert digests[a] != digests[b]
