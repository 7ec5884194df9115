"""`k8s.validate`: render every overlay and every chart values file with the real renderers, validate them
strictly, lint the chart, scan with checkov, check suppressions and the parity of the two renderers.
Any problem, including what other tools call a warning, fails the run."""

from __future__ import annotations

import functools
import re
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from shipyard import imageref
from shipyard.config.schema import Registry
from shipyard.errors import ShipyardError
from shipyard.k8s import manifests, parity, policy, schema
from shipyard.k8s.render import Pin, Rendered, helm_sdk, merged_values, render
from shipyard.k8s.sources import Source, discover
from shipyard.run.base import Runner

#: The release every source is rendered for during validation (a realistic 12-character SHA tag).
SAMPLE_TAG = "0123456789ab"
SAMPLE_NAMESPACE = "shipyard"
PLACEHOLDER_RE = re.compile(r"^shipyard/[a-z0-9-]+(:.*)?$")


@dataclass
class Report:
    rows: list[tuple[str, int, float]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    checks_passed: int = 0
    versions: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


T = TypeVar("T")


def _timed(report: Report, phase: str, fn: Callable[[], T]) -> T:
    start = time.monotonic()
    try:
        return fn()
    finally:
        report.timings[phase] = report.timings.get(phase, 0.0) + time.monotonic() - start


def lint_chart(root: Path, source: Source, pin: Pin, kube_version: str) -> list[str]:
    """`helm lint --strict --kube-version`: template errors, invalid YAML, values.schema.json violations."""
    helm = helm_sdk()
    report = helm.lint(str(root / source.path), merged_values(root, source, pin), strict=True,
                       kube_version=f"v{kube_version}", namespace=pin.namespace)
    out = []
    for message in report.get("messages", []):
        if int(message.get("severity", 0)) >= 2:  # 2 warning, 3 error; 1 (info) is advice such as "icon"
            text = " ".join(str(message.get("error", "")).split())
            out.append(f"{source.label}: helm lint: {message.get('path')}: {text}")
    return out


def static_checks(rendered: Rendered, pin: Pin) -> list[str]:
    """Rules of this repository that no schema knows."""
    out = policy.unreasoned_skips(rendered.all_docs, rendered.source.label)
    for doc in rendered.docs:
        key = f"{rendered.source.label}: {doc['kind']}/{doc.get('metadata', {}).get('name')}"
        if doc["kind"] == "Secret" and rendered.source.kind == "kustomize":
            out.append(f"{key}: a Secret in committed manifests (create it with `invoke k8s.secrets`)")
        for container in (doc.get("spec", {}).get("template", {}).get("spec", {}) or {}).get("containers", []):
            image = str(container.get("image", ""))
            if PLACEHOLDER_RE.match(image):
                out.append(f"{key}: image {image} was not pinned to the release")
            elif imageref.digest_of(image) is None and imageref.tag_of(image) in (None, "latest"):
                out.append(f"{key}: image {image} has no fixed tag")
    return out


def run(root: Path, registry: Registry, services: tuple[str, ...], runner: Runner, *,
        versions: tuple[str, ...] = schema.KUBE_VERSIONS, policy_scan: bool = True,
        sources: list[Source] | None = None) -> Report:
    """Renders run side by side (kubectl and the Helm SDK release the GIL); checkov, the slowest part, scans
    the renders in its own process while schemas, lint, static rules and parity are checked here."""
    report = Report(versions=versions)
    pin = Pin(SAMPLE_NAMESPACE, registry, SAMPLE_TAG, services)
    checkov = policy.find_checkov(root) if policy_scan else None
    todo = sources if sources is not None else discover(root)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda source: _render(root, source, pin, runner), todo))
        report.timings["render"] = time.monotonic() - started
        renders = [r for r, _ in outcomes if r is not None]
        report.problems += [error for _, error in outcomes if error]
        scan = pool.submit(_scan, report, runner, checkov, renders) if checkov and renders else None
        for rendered in renders:
            start = time.monotonic()
            source = rendered.source
            if source.kind == "helm":
                for version in versions:
                    report.problems += _timed(report, "helm lint",
                                              functools.partial(lint_chart, root, source, pin, version))
            report.problems += [str(p) for p in _timed(
                report, "schema", functools.partial(schema.validate, rendered.all_docs, source.label, versions))]
            report.problems += static_checks(rendered, pin)
            report.rows.append((source.label, len(rendered.all_docs), time.monotonic() - start))
        report.problems += _timed(report, "parity", lambda: parity_problems(renders))
        if scan is not None:
            report.problems += scan.result()
    return report


def _render(root: Path, source: Source, pin: Pin, runner: Runner) -> tuple[Rendered | None, str | None]:
    """A broken render is one problem among others, not the end of the run."""
    try:
        return render(root, source, pin, runner), None
    except ShipyardError as exc:
        return None, str(exc)


def parity_problems(renders: list[Rendered]) -> list[str]:
    by_env: dict[str, dict[str, Rendered]] = {}
    for rendered in renders:
        env = rendered.source.environment
        if env:
            by_env.setdefault(env, {})[rendered.source.kind] = rendered
    out = []
    for env, pair in sorted(by_env.items()):
        if "kustomize" in pair and "helm" in pair:
            out += [f"parity {env}: {line}" for line in parity.compare(
                pair["kustomize"].docs, pair["helm"].docs, "overlay", "chart")]
    return out


def _scan(report: Report, runner: Runner, checkov: str, renders: list[Rendered]) -> list[str]:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="shipyard-checkov-") as tmp:
        for index, rendered in enumerate(renders):
            slug = re.sub(r"[^A-Za-z0-9]+", "-", rendered.source.label).strip("-")
            (Path(tmp) / f"{index:02d}-{slug}.yaml").write_text(manifests.dump(rendered.all_docs), encoding="utf-8")
        failed, passed, errors = policy.scan(runner, checkov, Path(tmp))
    report.checks_passed = passed
    report.timings["checkov (parallel)"] = time.monotonic() - started
    return [f"checkov: {finding}" for finding in failed] + [f"checkov: cannot parse {e}" for e in errors]
