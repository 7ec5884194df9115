"""Parity: the overlay and the chart values file of one environment produce the same kinds, names, images,
probes, resources and replica counts (Namespace and Helm hooks aside, for the reasons in k8s/parity.py)."""

from __future__ import annotations

import copy

import pytest
from k8s_support import chart, need_renderers, overlay, render_source

from shipyard.k8s import parity


@pytest.fixture(scope="module", autouse=True)
def renderers() -> None:
    need_renderers()


@pytest.mark.parametrize("env", ["dev", "staging", "production"])
def test_overlay_and_chart_agree(env: str) -> None:
    kustomized, helmed = render_source(overlay(env)), render_source(chart(env))
    assert parity.compare(kustomized.docs, helmed.docs, "overlay", "chart") == []
    summary = parity.summarize(kustomized.docs)
    assert {"Deployment/shipyard-api", "Deployment/shipyard-web", "Service/shipyard-api", "Ingress/shipyard",
            "HorizontalPodAutoscaler/shipyard-web", "PersistentVolumeClaim/shipyard-api-data"} <= summary.keys()
    assert "Namespace/shipyard" not in summary


def test_a_difference_is_reported_with_both_values() -> None:
    kustomized, helmed = render_source(overlay("staging")), render_source(chart("staging"))
    changed = copy.deepcopy(helmed.docs)
    for doc in changed:
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "shipyard-web":
            doc["spec"]["replicas"] = 5
            doc["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] = "/other"
    changed = [d for d in changed if d["kind"] != "PodDisruptionBudget" or d["metadata"]["name"] != "shipyard-api"]
    problems = parity.compare(kustomized.docs, changed, "overlay", "chart")
    assert "PodDisruptionBudget/shipyard-api only in overlay" in problems
    assert "Deployment/shipyard-web replicas: overlay has 2, chart has 5" in problems
    assert any(p.startswith("Deployment/shipyard-web container web:") and "/other" in p for p in problems)


def test_environments_differ_from_each_other() -> None:
    """The comparison is not blind: two different environments are never in parity."""
    assert parity.compare(render_source(overlay("dev")).docs, render_source(overlay("production")).docs,
                          "dev", "production")
