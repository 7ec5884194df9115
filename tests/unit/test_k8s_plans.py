"""Pure decisions: production guard, workload order, health URLs, undo steps, revision lookup."""

from __future__ import annotations

import pytest

from shipyard.plans import k8s as plans


def deployment(name: str, component: str, kind: str = "Deployment") -> dict:  # type: ignore[type-arg]
    return {"apiVersion": "apps/v1", "kind": kind,
            "metadata": {"name": name, "labels": {"app.kubernetes.io/component": component}}}


def service(name: str, component: str, port: int) -> dict:  # type: ignore[type-arg]
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/component": component}},
            "spec": {"ports": [{"name": "http", "port": port}]}}


DOCS = [deployment("shipyard-web", "web"), deployment("shipyard-api", "api"),
        deployment("shipyard-postgres", "postgres", "StatefulSet"), deployment("shipyard-redis", "redis"),
        service("shipyard-api", "api", 8000), service("shipyard-web", "web", 3000),
        service("shipyard-postgres", "postgres", 5432)]


@pytest.mark.parametrize(("env", "guarded", "configured", "current", "refused"), [
    ("k8s-production", True, "do-production", "do-production", False),
    ("k8s-production", True, "do-production", "minikube", True),
    ("k8s-production", True, "do-production", None, True),
    ("eu-live", True, "prod-ctx", "other", True),  # the setting decides, never the name
    ("k8s-production", False, "do-production", "minikube", False),
    ("k8s-staging", False, "do-staging", "minikube", False),  # only a guarded environment demands its context
])
def test_production_guard(env: str, guarded: bool, configured: str, current: str | None, refused: bool) -> None:
    reason = plans.context_refusal(env, configured, current, guarded=guarded)
    assert (reason is not None) == refused
    if reason:
        assert f"kubectl config use-context {configured}" in reason and "\n" not in reason


def test_workloads_datastores_first_and_filtered() -> None:
    assert plans.workloads(DOCS) == ["deployment/shipyard-redis", "statefulset/shipyard-postgres",
                                     "deployment/shipyard-api", "deployment/shipyard-web"]
    assert plans.workloads(DOCS, ["api", "web"]) == ["deployment/shipyard-api", "deployment/shipyard-web"]


def test_health_urls_go_through_services() -> None:
    assert plans.health_urls(DOCS, {"api": "/ready", "web": "/api/health"}, "team") == [
        "http://shipyard-api.team.svc:8000/ready", "http://shipyard-web.team.svc:3000/api/health"]


def test_kustomize_deploy_undo_only_touches_the_app() -> None:
    plan = plans.kustomize_deploy("ctx", "ns", "/tmp/x", DOCS, ["api", "web"], ["http://a"], "abc")
    assert [s.phase for s in plan.steps] == ["apply", "rollout", "rollout", "rollout", "rollout", "health"]
    assert [s.argv[5:8] for s in plan.undo] == [
        ["rollout", "undo", "deployment/shipyard-api"], ["rollout", "undo", "deployment/shipyard-web"],
        ["rollout", "status", "deployment/shipyard-api"], ["rollout", "status", "deployment/shipyard-web"]]
    assert plan.steps[0].changes and not plan.steps[-1].changes


@pytest.mark.parametrize(("previous", "undo"), [
    (None, ["uninstall", "rel", "--wait", "--timeout=300s"]),
    (7, ["rollback", "rel", "7", "--wait", "--timeout=300s"]),
])
def test_helm_deploy_undo(previous: int | None, undo: list[str]) -> None:
    plan = plans.helm_deploy("ctx", "ns", "rel", "chart", [], {"image.tag": "abc"}, 4, previous)
    assert [s.phase for s in plan.steps] == ["upgrade", "health"]
    assert plan.undo[0].argv[5:] == undo


def test_helm_revision_for_tag() -> None:
    tags = {1: "aaaaaaaaaaaa", 2: "bbbbbbbbbbbb", 3: None, 4: "aaaaaaaaaaaa"}
    assert plans.helm_revision_for_tag(tags, "aaaaaaaaaaaa") == 4
    assert plans.helm_revision_for_tag(tags, "bbbbbbb") == 2
    assert plans.helm_revision_for_tag(tags, "cccccccccccc") is None
