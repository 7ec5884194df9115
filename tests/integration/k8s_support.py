"""Shared helpers of the Kubernetes tests: the real renderers, and tool checks that skip visibly on a laptop
without them but fail in CI (CI=true), where .ci/run installs them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shipyard.config import load
from shipyard.k8s import policy
from shipyard.k8s.render import Pin, Rendered, render
from shipyard.k8s.sources import Source, discover
from shipyard.k8s.validate import SAMPLE_NAMESPACE, SAMPLE_TAG
from shipyard.run import LocalRunner
from tools import need, need_tool

ROOT = Path(__file__).resolve().parents[2]


def need_renderers() -> None:
    need_tool("kubectl")
    for module, package in (("kubernetes_validate", "kubernetes-validate"), ("helm_python", "helm-python-sdk")):
        try:
            __import__(module)
        except ImportError:
            need(package, False, f"{package} is not installed (pip install -e '.[k8s]')")
        else:
            need(package, True, "")


def checkov_or_skip() -> str:
    try:
        return policy.find_checkov(ROOT)
    except Exception as exc:
        need("checkov", False, str(exc))
        raise


def config() -> Any:
    return load(ROOT / "shipyard.yaml")


def sample_pin(namespace: str = SAMPLE_NAMESPACE, tag: str = SAMPLE_TAG) -> Pin:
    cfg = config()
    return Pin(namespace, cfg.registry(), tag, tuple(sorted(cfg.services())))


def sources() -> list[Source]:
    return discover(ROOT)


def render_source(source: Source, pin: Pin | None = None, root: Path = ROOT) -> Rendered:
    return render(root, source, pin or sample_pin(), LocalRunner())


def overlay(env: str) -> Source:
    return Source("kustomize", Path("k8s/overlays") / env)


def chart(env: str | None = None) -> Source:
    values = (Path(f"helm/shipyard/values-{env}.yaml"),) if env else ()
    return Source("helm", Path("helm/shipyard"), values)


def by_key(rendered: Rendered) -> dict[str, dict[str, Any]]:
    return {f"{d['kind']}/{d['metadata']['name']}": d for d in rendered.docs}
