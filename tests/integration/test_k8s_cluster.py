"""On a real cluster: deploy the dev environment into a namespace of its own, check health through the Services,
roll back, and delete the namespace. Runs whenever KUBECONFIG points at a reachable cluster; skipped, with the
reason printed, everywhere else (no cluster can run on the project's machines).

The images must be in the cluster first (`<registry>/<namespace>/{api,web}:<tag>` from shipyard.yaml):
    invoke docker.build                        # or build them however you like
    minikube image load 127.0.0.1:5000/shipyard/api:$(git rev-parse --short=12 HEAD)   # and web
    kind load docker-image ...                 # for kind
SHIPYARD_K8S_TEST_TAG overrides the tag (default: HEAD's short SHA); SHIPYARD_K8S_TEST_REGISTRY the registry.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from k8s_support import ROOT, need_renderers

from shipyard.config import load
from shipyard.release import Release
from shipyard.run import LocalRunner
from shipyard.targets.kubernetes import KubernetesTarget


def cluster_context() -> str:
    """The current context of a reachable cluster, or skip saying why not."""
    if not os.environ.get("KUBECONFIG"):
        pytest.skip("KUBECONFIG is not set: no Kubernetes cluster to deploy to (this test needs a real one)")
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    current = subprocess.run(["kubectl", "config", "current-context"], capture_output=True, text=True,
                             timeout=30, check=False)
    if current.returncode != 0:
        pytest.skip(f"KUBECONFIG has no current context: {current.stderr.strip()[:200]}")
    reach = subprocess.run(["kubectl", "version", "--output", "json", "--request-timeout=5s"], capture_output=True,
                           text=True, timeout=60, check=False)
    if reach.returncode != 0:
        pytest.skip(f"the cluster of KUBECONFIG is not reachable: {reach.stderr.strip().splitlines()[-1:]}")
    return current.stdout.strip()


def head_tag() -> str:
    explicit = os.environ.get("SHIPYARD_K8S_TEST_TAG")
    if explicit:
        return explicit
    out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                         check=True, timeout=30)
    return out.stdout.strip()


@pytest.fixture
def cluster_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[KubernetesTarget, str]]:
    context = cluster_context()
    need_renderers()
    namespace = f"shipyard-test-{secrets.token_hex(3)}"
    raw = yaml.safe_load((ROOT / "shipyard.yaml").read_text())
    if os.environ.get("SHIPYARD_K8S_TEST_REGISTRY"):
        raw["registry"]["address"] = os.environ["SHIPYARD_K8S_TEST_REGISTRY"]
    helm = os.environ.get("SHIPYARD_K8S_TEST_RENDERER") == "helm"
    env: dict[str, object] = {"target": "kubernetes", "context": context, "namespace": namespace}
    if helm:
        env.update(chart=str(ROOT / "helm/shipyard"), values=[str(ROOT / "helm/shipyard/values-dev.yaml")])
    else:
        env["overlay"] = str(ROOT / "k8s/overlays/dev")
    raw["environments"] = {"k8s-test": env}
    (tmp_path / "shipyard.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("POSTGRES_PASSWORD", secrets.token_urlsafe(24))
    target = KubernetesTarget(load(tmp_path / "shipyard.yaml"), "k8s-test", LocalRunner())
    print(f"\ncluster test: context {context}, namespace {namespace}, renderer {'helm' if helm else 'kustomize'}")
    try:
        yield target, context
    finally:
        if helm:
            subprocess.run(["helm", "--kube-context", context, "--namespace", namespace, "uninstall", "shipyard",
                            "--wait"], capture_output=True, timeout=300, check=False)
        subprocess.run(["kubectl", "--context", context, "delete", "namespace", namespace, "--wait=true",
                        "--timeout=300s", "--ignore-not-found"], capture_output=True, timeout=360, check=False)


def revision(context: str, namespace: str, deployment: str) -> int:
    out = subprocess.run(["kubectl", "--context", context, "--namespace", namespace, "get", "deployment",
                          deployment, "--output", "json"], capture_output=True, text=True, check=True, timeout=60)
    return int(json.loads(out.stdout)["metadata"]["annotations"]["deployment.kubernetes.io/revision"])


def test_deploy_health_rollback_cleanup(cluster_env: tuple[KubernetesTarget, str]) -> None:
    target, context = cluster_env
    namespace = target.env.namespace
    tag = head_tag()
    assert target.apply_secrets() == ["POSTGRES_PASSWORD"]
    target.deploy(Release(sha=tag))  # waits for every rollout and checks health through the Services
    rows = {w.name: w for w in target.status()}
    assert rows["shipyard-api"].healthy and rows["shipyard-web"].healthy
    assert rows["shipyard-api"].images[0].endswith(f"/api:{tag[:12]}")

    if target.source.kind == "kustomize":
        # A second revision of the pod template, then back to the first one.
        for name in ("shipyard-api", "shipyard-web"):
            subprocess.run(["kubectl", "--context", context, "--namespace", namespace, "rollout", "restart",
                            f"deployment/{name}"], check=True, capture_output=True, timeout=60)
        before = revision(context, namespace, "shipyard-api")
        target.rollback(None)  # rollout undo, waits, health check
        assert revision(context, namespace, "shipyard-api") == before + 1  # undo makes the old template newest
    else:
        target.deploy(Release(sha=tag))  # revision 2
        target.rollback(None)  # helm rollback to revision 1, then `helm test`
    rows = {w.name: w for w in target.status()}
    assert all(w.healthy for w in rows.values())
