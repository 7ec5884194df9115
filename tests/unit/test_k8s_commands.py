"""Exact argv of Kubernetes deploys and rollbacks (Kustomize and Helm), built from the repository's config and
printed by the dry-run runner, plus the pure builders they use."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from shipyard.commands import helm, kubectl, kustomize
from shipyard.config import load
from shipyard.errors import ShipyardError
from shipyard.release import Release
from shipyard.run import DryRunRunner
from shipyard.targets.kubernetes import KubernetesTarget

ROOT = Path(__file__).resolve().parents[2]
SHA = "0123456789abcdef0123456789abcdef01234567"
TAG = "0123456789ab"


@pytest.fixture(scope="module")
def config():  # type: ignore[no-untyped-def]
    return load(ROOT / "shipyard.yaml")


def dry_target(config, env: str) -> tuple[KubernetesTarget, DryRunRunner, list[str]]:  # type: ignore[no-untyped-def]
    printed: list[str] = []
    runner = DryRunRunner(printer=printed.append)
    return KubernetesTarget(config, env, runner, echo=printed.append), runner, printed


def test_kustomize_deploy_argv(config) -> None:  # type: ignore[no-untyped-def]
    target, runner, printed = dry_target(config, "k8s-staging")
    target.deploy(Release(sha=SHA))
    apply, *rest = runner.commands
    assert apply[:5] == ["kubectl", "--context", "do-staging", "apply", "--kustomize"]
    assert re.match(r"^/.*/shipyard-k8s-[^/]+$", apply[5]) and len(apply) == 6
    ctx = ["kubectl", "--context", "do-staging", "--namespace", "shipyard"]
    assert rest[:2] == [
        [*ctx, "rollout", "status", "deployment/shipyard-api", "--timeout=300s"],
        [*ctx, "rollout", "status", "deployment/shipyard-web", "--timeout=300s"],
    ]
    probe = rest[2]
    assert probe[:6] == [*ctx, "run"] and re.match(rf"^shipyard-health-{TAG}-[0-9a-f]{{6}}$", probe[6])
    assert probe[7:13] == ["--rm", "--attach", "--quiet", "--restart=Never", "--image=curlimages/curl:8.11.1",
                           "--labels=app.kubernetes.io/component=healthcheck,app.kubernetes.io/instance=shipyard"]
    overrides = json.loads(probe[-1].removeprefix("--overrides="))
    args = overrides["spec"]["containers"][0]["args"]
    assert args[-2:] == ["http://shipyard-api.shipyard.svc:8000/ready",
                         "http://shipyard-web.shipyard.svc:3000/api/health"]
    assert len(rest) == 3
    # The generated overlay is shown, pinning both images to the release.
    shown = "\n".join(printed)
    assert f"newName: 127.0.0.1:5000/shipyard/api\n#     newTag: {TAG}" in shown
    assert f"newName: 127.0.0.1:5000/shipyard/web\n#     newTag: {TAG}" in shown


def test_kustomize_dev_waits_for_datastores_first(config) -> None:  # type: ignore[no-untyped-def]
    target, runner, _ = dry_target(config, "k8s-dev")
    target.deploy(Release(sha=SHA))
    rollouts = [argv[7] for argv in runner.commands if argv[5:7] == ["rollout", "status"]]
    assert rollouts == ["deployment/shipyard-redis", "statefulset/shipyard-postgres",
                        "deployment/shipyard-api", "deployment/shipyard-web"]


def test_kustomize_rollback_argv(config) -> None:  # type: ignore[no-untyped-def]
    target, runner, _ = dry_target(config, "k8s-staging")
    target.rollback(None)
    ctx = ["kubectl", "--context", "do-staging", "--namespace", "shipyard"]
    assert runner.commands[:4] == [
        [*ctx, "rollout", "undo", "deployment/shipyard-api"],
        [*ctx, "rollout", "undo", "deployment/shipyard-web"],
        [*ctx, "rollout", "status", "deployment/shipyard-api", "--timeout=300s"],
        [*ctx, "rollout", "status", "deployment/shipyard-web", "--timeout=300s"],
    ]
    assert runner.commands[4][5:7] == ["run", runner.commands[4][6]] and len(runner.commands) == 5


def test_kustomize_rollback_to_sha_redeploys_that_release(config) -> None:  # type: ignore[no-untyped-def]
    target, runner, printed = dry_target(config, "k8s-staging")
    target.rollback("fedcba9876543210")
    assert runner.commands[0][3:5] == ["apply", "--kustomize"]
    assert "newTag: fedcba987654" in "\n".join(printed)


def test_helm_deploy_argv(config) -> None:  # type: ignore[no-untyped-def]
    target, runner, _ = dry_target(config, "k8s-dev-helm")
    target.deploy(Release(sha=SHA))
    base = ["helm", "--kube-context", "minikube", "--namespace", "shipyard"]
    assert runner.commands == [
        [*base, "upgrade", "shipyard", str(ROOT / "helm/shipyard"), "--install", "--rollback-on-failure", "--wait",
         "--timeout=300s", "--history-max=10", "--create-namespace",
         "--values", str(ROOT / "helm/shipyard/values-dev.yaml"),
         "--set-string", "image.namespace=shipyard", "--set-string", "image.registry=127.0.0.1:5000",
         "--set-string", f"image.tag={TAG}"],
        [*base, "test", "shipyard", "--logs", "--timeout=180s"],
    ]


def test_helm_rollback_argv(config) -> None:  # type: ignore[no-untyped-def]
    target, runner, _ = dry_target(config, "k8s-dev-helm")
    target.rollback(None)
    base = ["helm", "--kube-context", "minikube", "--namespace", "shipyard"]
    assert runner.commands == [
        [*base, "rollback", "shipyard", "--wait", "--timeout=300s"],
        [*base, "test", "shipyard", "--logs", "--timeout=180s"],
    ]


def test_helm_v3_uses_atomic() -> None:
    argv = helm.upgrade_install("r", "chart", context="c", namespace="n", helm_major=3)
    assert "--atomic" in argv and "--rollback-on-failure" not in argv
    assert helm.rollback("r", 4, context="c", namespace="n", timeout=60) == [
        "helm", "--kube-context", "c", "--namespace", "n", "rollback", "r", "4", "--wait", "--timeout=60s"]


def test_secret_apply_reads_stdin_and_names_context() -> None:
    assert kubectl.apply_stdin("kind-shipyard", "shipyard") == [
        "kubectl", "--context", "kind-shipyard", "--namespace", "shipyard", "apply", "--filename", "-"]
    assert kubectl.diff_stdin("minikube") == ["kubectl", "--context", "minikube", "diff", "--filename", "-"]


def test_logs_argv() -> None:
    assert kubectl.logs("minikube", "shipyard", "app.kubernetes.io/component=api", tail=50, since="10m") == [
        "kubectl", "--context", "minikube", "--namespace", "shipyard", "logs", "--selector",
        "app.kubernetes.io/component=api", "--tail=50", "--prefix", "--timestamps", "--max-log-requests=10",
        "--all-containers", "--since=10m"]


def test_release_overlay_pins_images_and_namespace() -> None:
    doc = kustomize.release_overlay("../../repo/k8s/overlays/dev", namespace="team-a",
                                    images={"api": "ghcr.io/acme/api:abc123", "web": "ghcr.io/acme/web:abc123"},
                                    version="abc123")
    assert doc["resources"] == ["../../repo/k8s/overlays/dev"]
    assert doc["namespace"] == "team-a"
    assert doc["images"] == [{"name": "shipyard/api", "newName": "ghcr.io/acme/api", "newTag": "abc123"},
                             {"name": "shipyard/web", "newName": "ghcr.io/acme/web", "newTag": "abc123"}]
    assert json.loads(doc["patches"][0]["patch"]) == [{"op": "add", "path": "/data/APP_VERSION",
                                                       "value": "abc123"}]
    for patch, kind in zip(doc["patches"][1:], ("Deployment", "StatefulSet"), strict=True):
        assert patch["target"] == {"kind": kind}
        assert json.loads(patch["patch"])["metadata"]["annotations"] == {
            "kubernetes.io/change-cause": "shipyard release abc123"}
    with pytest.raises(ValueError, match="no tag"):
        kustomize.release_overlay("x", namespace="n", images={"api": "127.0.0.1:5000/acme/api"}, version="v")
    digest = "sha256:" + "c" * 64
    pinned = kustomize.release_overlay("x", namespace="n", images={"api": f"r/acme/api:abc123@{digest}"}, version="v")
    assert pinned["images"] == [{"name": "shipyard/api", "newName": "r/acme/api", "newTag": "abc123",
                                 "digest": digest}]


def test_exec_runs_in_the_first_running_pod_of_the_service(config) -> None:  # type: ignore[no-untyped-def]
    """`invoke exec --env k8s-staging --service api`: the release's running api pods by selector (a read), then
    `kubectl exec` into the first by name, in the container named after the service."""
    target, runner, _ = dry_target(config, "k8s-staging")
    reads: list[list[str]] = []

    class Pods(DryRunRunner):
        def run(self, argv, **kwargs):  # type: ignore[no-untyped-def]
            reads.append(list(argv))
            return dataclasses.replace(super().run(argv, **kwargs),
                                       stdout="pod/shipyard-api-7d9f-x2k\npod/shipyard-api-7d9f-a1b\n")

    target.local = Pods(printer=lambda _line: None)
    assert target.exec("api", ["sh", "-c", "python -m app migrate"], stdin=True) == 0
    ctx = ["kubectl", "--context", "do-staging", "--namespace", "shipyard"]
    assert reads == [[*ctx, "get", "pods", "--selector",
                      "app.kubernetes.io/instance=shipyard,app.kubernetes.io/component=api",
                      "--field-selector=status.phase=Running", "--output", "name"]]
    assert runner.commands == [[*ctx, "exec", "--stdin", "pod/shipyard-api-7d9f-a1b", "--container", "api", "--",
                                "sh", "-c", "python -m app migrate"]]
    target.local = DryRunRunner(printer=lambda _line: None)  # no running pod
    with pytest.raises(ShipyardError, match=r"^no running pod of api in shipyard \(next: invoke status --env k8s-"):
        target.exec("api", ["true"])
