"""Parsers of kubectl and helm output, fed with recorded outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.facts import k8s

RECORDED = Path(__file__).parent / "recorded" / "k8s"


def read(name: str) -> str:
    return (RECORDED / name).read_text(encoding="utf-8")


def test_contexts_and_current() -> None:
    assert k8s.parse_contexts("minikube\nkind-shipyard\n\n") == ["minikube", "kind-shipyard"]
    assert k8s.parse_current_context("minikube\n") == "minikube"
    assert k8s.parse_current_context("") is None


@pytest.mark.parametrize(("out", "expected"), [("v3.16.2", (3, 16)), ("v4.0.1+g123abc", (4, 0)),
                                               ("version.BuildInfo{Version:\"v3.14.0\"}", (3, 14))])
def test_helm_version(out: str, expected: tuple[int, int]) -> None:
    assert k8s.parse_helm_version(out) == expected


def test_helm_version_garbage() -> None:
    with pytest.raises(k8s.FactError):
        k8s.parse_helm_version("helm: command not found")


def test_helm_history_sorted_oldest_first() -> None:
    revisions = k8s.parse_helm_history(read("helm_history.json"))
    assert [r.revision for r in revisions] == [1, 2, 3]
    assert revisions[-1].status == "deployed" and revisions[0].description == "Install complete"
    assert k8s.parse_helm_history("") == []


def test_helm_values_tag() -> None:
    assert k8s.parse_helm_values_tag('{"image": {"tag": "0123456789ab"}, "web": {"replicas": 2}}') == "0123456789ab"
    assert k8s.parse_helm_values_tag("null") is None
    assert k8s.parse_helm_values_tag('{"image": {"registry": "r"}}') is None


def test_workloads() -> None:
    rows = k8s.parse_workloads(read("get_workloads.json"))
    assert [(w.kind, w.name) for w in rows] == [("Deployment", "shipyard-api"), ("Deployment", "shipyard-web"),
                                                ("StatefulSet", "shipyard-postgres")]
    api, web, pg = rows
    assert api.healthy and api.images == ("127.0.0.1:5000/shipyard/api:0123456789ab",)
    assert not web.healthy and (web.desired, web.ready, web.updated) == (2, 2, 1)
    assert not pg.healthy and pg.ready == 0
