"""Policy: checkov (kubernetes framework, offline) passes on every render; every suppression carries its
reason in the manifest; and the scan does fail on a manifest that breaks policy."""

from __future__ import annotations

from pathlib import Path

import pytest
from k8s_support import ROOT, checkov_or_skip, config, need_renderers, render_source, sources

from shipyard.k8s import manifests, policy
from shipyard.k8s import validate as k8s_validate
from shipyard.run import LocalRunner


@pytest.fixture(scope="module")
def checkov() -> str:
    need_renderers()
    return checkov_or_skip()


def test_full_validate_is_clean(checkov: str) -> None:
    cfg = config()
    report = k8s_validate.run(ROOT, cfg.registry(), tuple(cfg.services()), LocalRunner())
    assert report.problems == []
    assert len(report.rows) == len(sources()) >= 9
    assert report.checks_passed > 1000  # the scan really ran over every render


@pytest.mark.parametrize("source", sources(), ids=lambda s: s.label)
def test_every_suppression_has_a_written_reason(source) -> None:  # type: ignore[no-untyped-def]
    need_renderers()
    rendered = render_source(source)
    skips = [(key, value) for doc in rendered.all_docs for key, value in manifests.annotations_of(doc).items()
             if key.startswith("checkov.io/skip")]
    assert skips, "the workloads carry their suppressions"
    assert policy.unreasoned_skips(rendered.all_docs, source.label) == []
    for _, value in skips:
        check, reason = value.split("=", 1)
        assert check.startswith("CKV_K8S_") and len(reason.split()) >= 5


def test_unreasoned_suppression_is_reported() -> None:
    doc = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "annotations": {
        "checkov.io/skip1": "CKV_K8S_20", "checkov.io/skip2": "CKV_K8S_43=ok"}}}
    problems = policy.unreasoned_skips([doc], "t")
    assert len(problems) == 2 and all("has no written reason" in p for p in problems)


def test_scan_fails_on_a_bad_manifest(checkov: str, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("""apiVersion: v1
kind: Pod
metadata: {name: bad, namespace: shipyard}
spec:
  hostNetwork: true
  containers:
    - name: c
      image: nginx:latest
      securityContext: {privileged: true}
""")
    failed, _passed, errors = policy.scan(LocalRunner(), checkov, tmp_path)
    ids = {f.check for f in failed}
    assert {"CKV_K8S_16", "CKV_K8S_19", "CKV_K8S_14"} <= ids  # privileged, hostNetwork, latest tag
    assert errors == []


def test_missing_checkov_is_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPYARD_CHECKOV", str(tmp_path / "nope"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(Exception, match="checkov is not installed") as info:
        policy.find_checkov(tmp_path)
    assert "\n" not in str(info.value)
