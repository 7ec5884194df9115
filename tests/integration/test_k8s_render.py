"""Every overlay and every chart values file, rendered by the real renderers (kubectl's kustomize, the Helm SDK)
and validated strictly against Kubernetes 1.30 and 1.34 schemas; the manifests say what the issue asks for."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml
from k8s_support import ROOT, by_key, chart, need_renderers, overlay, render_source, sample_pin, sources

from shipyard.errors import ShipyardError
from shipyard.k8s import schema
from shipyard.k8s.validate import lint_chart, static_checks

pytestmark = pytest.mark.usefixtures("renderers")

EXPECTED = {  # env -> (api replicas, web replicas, hpa min, hpa max, requests, limits)
    "dev": (1, 1, 1, 2, {"cpu": "100m", "memory": "128Mi"}, {"cpu": "500m", "memory": "512Mi"}),
    "staging": (2, 2, 2, 4, {"cpu": "100m", "memory": "128Mi"}, {"cpu": "250m", "memory": "384Mi"}),
    "production": (3, 3, 3, 10, {"cpu": "250m", "memory": "256Mi"}, {"cpu": "500m", "memory": "512Mi"}),
}


@pytest.fixture(scope="module")
def renderers() -> None:
    need_renderers()


def test_discovers_every_overlay_and_values_file() -> None:
    labels = [s.label for s in sources()]
    assert labels[:3] == ["kustomize k8s/overlays/dev", "kustomize k8s/overlays/production",
                          "kustomize k8s/overlays/staging"]
    assert "helm helm/shipyard (values.yaml)" in labels
    for name in ("values-dev.yaml", "values-staging.yaml", "values-production.yaml",
                 "ci/managed-datastores-values.yaml", "ci/minimal-values.yaml"):
        assert f"helm helm/shipyard ({name})" in labels


@pytest.mark.parametrize("source", sources(), ids=lambda s: s.label)
def test_renders_and_validates_strictly(source) -> None:  # type: ignore[no-untyped-def]
    rendered = render_source(source)
    assert len(rendered.docs) >= 10
    assert schema.validate(rendered.all_docs, source.label, ("1.30.0", "1.34.0")) == []
    assert static_checks(rendered, sample_pin()) == []
    if source.kind == "helm":
        assert lint_chart(ROOT, source, sample_pin(), "1.30.0") == []


@pytest.mark.parametrize("env", sorted(EXPECTED))
@pytest.mark.parametrize("renderer", ["kustomize", "helm"])
def test_environment_shape(env: str, renderer: str) -> None:
    rendered = render_source(overlay(env) if renderer == "kustomize" else chart(env))
    objs = by_key(rendered)
    api_n, web_n, hpa_min, hpa_max, requests, limits = EXPECTED[env]
    api, web = objs["Deployment/shipyard-api"], objs["Deployment/shipyard-web"]
    assert (api["spec"]["replicas"], web["spec"]["replicas"]) == (api_n, web_n)
    for deployment, service, port, live, ready in ((api, "api", 8000, "/health", "/ready"),
                                                   (web, "web", 3000, "/api/health", "/api/health")):
        assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["automountServiceAccountToken"] is False
        (container,) = pod["containers"]
        assert container["image"] == f"127.0.0.1:5000/shipyard/{service}:0123456789ab"
        if renderer == "kustomize":  # what `k8s.releases` reads back from each rollout revision
            assert deployment["metadata"]["annotations"]["kubernetes.io/change-cause"] == (
                "shipyard release 0123456789ab")
        assert container["resources"] == {"requests": requests, "limits": limits}
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"] and sc["capabilities"] == {
            "drop": ["ALL"]}
        lp, rp = container["livenessProbe"], container["readinessProbe"]
        assert (lp["httpGet"]["path"], lp["initialDelaySeconds"], lp["periodSeconds"], lp["failureThreshold"]) == (
            live, 30, 10, 3)
        assert (rp["httpGet"]["path"], rp["initialDelaySeconds"], rp["periodSeconds"], rp["failureThreshold"]) == (
            ready, 5, 5, 3)
        labels = deployment["metadata"]["labels"]
        assert labels["app.kubernetes.io/component"] == service and labels["app.kubernetes.io/part-of"] == "shipyard"
        assert objs[f"Service/shipyard-{service}"]["spec"]["type"] == "ClusterIP"
        assert objs[f"Service/shipyard-{service}"]["spec"]["ports"][0]["port"] == port
        assert f"PodDisruptionBudget/shipyard-{service}" in objs
        assert f"NetworkPolicy/shipyard-{service}" in objs
    hpa = objs["HorizontalPodAutoscaler/shipyard-web"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (hpa_min, hpa_max)
    assert {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in hpa["spec"]["metrics"]} \
        == {"cpu": 70, "memory": 80}
    ingress = objs["Ingress/shipyard"]["spec"]
    assert ingress["tls"][0]["secretName"] == "shipyard-tls"
    paths = {p["path"]: p["backend"]["service"]["name"] for p in ingress["rules"][0]["http"]["paths"]}
    assert paths == {"/": "shipyard-web", "/api/v1": "shipyard-api"}  # web keeps its own /api/items, /api/health
    assert ingress["tls"][0]["hosts"] == [ingress["rules"][0]["host"]]
    assert objs["PersistentVolumeClaim/shipyard-api-data"]["spec"]["resources"]["requests"]["storage"] == "1Gi"
    config = objs["ConfigMap/shipyard-config"]["data"]
    assert config["ENVIRONMENT"] == env and config["APP_VERSION"] == "0123456789ab"
    assert config["API_INTERNAL_URL"] == "http://shipyard-api:8000" and config["API_BASE_URL"].endswith("/api")
    assert "NetworkPolicy/shipyard-default-deny" in objs
    assert ("StatefulSet/shipyard-postgres" in objs) == (env == "dev")
    # The Secret is referenced, never rendered from committed files.
    assert not [k for k in objs if k.startswith("Secret/")]
    volumes = {v["name"]: v for v in api["spec"]["template"]["spec"]["volumes"]}
    assert volumes["secrets"]["secret"]["secretName"] == "shipyard-secrets"


def test_base_matches_the_issue() -> None:
    """The environment-neutral base: api 3 and web 2 replicas, full requests and limits, a Namespace."""
    out = render_source(overlay("production"))  # production adds no resource patch: its pods are the base's
    objs = by_key(out)
    base = yaml.safe_load_all((ROOT / "k8s/base/api-deployment.yaml").read_text())
    (api,) = list(base)
    assert api["spec"]["replicas"] == 3
    web = yaml.safe_load((ROOT / "k8s/base/web-deployment.yaml").read_text())
    assert web["spec"]["replicas"] == 2
    ns = objs["Namespace/shipyard"]["metadata"]["labels"]
    assert ns["pod-security.kubernetes.io/enforce"] == "restricted"


def test_namespace_and_release_are_rendered_not_committed(tmp_path: Path) -> None:
    pin = sample_pin(namespace="team-a", tag="fedcba987654")
    for source in (overlay("staging"), chart("staging")):
        rendered = render_source(source, pin)
        namespaces = {d["metadata"].get("namespace") for d in rendered.docs if d["kind"] != "Namespace"}
        assert namespaces == {"team-a"}
        images = {c["image"] for d in rendered.docs if d["kind"] == "Deployment"
                  for c in d["spec"]["template"]["spec"]["containers"]}
        assert images == {"127.0.0.1:5000/shipyard/api:fedcba987654", "127.0.0.1:5000/shipyard/web:fedcba987654"}
    assert "fedcba987654" not in (ROOT / "k8s/overlays/staging/kustomization.yaml").read_text()


def test_a_deploy_pins_each_image_by_the_digest_recorded_at_push(tmp_path: Path) -> None:
    """What `deploy --env k8s-*` renders after the release step: `repo:tag@sha256:...` per service, through the
    generated kustomization and through the chart's image.digests (validated by its values schema)."""
    from dataclasses import replace

    digests = {"api": "sha256:" + "a" * 64, "web": "sha256:" + "b" * 64}
    pin = replace(sample_pin(tag="fedcba987654"), digests=digests)
    for source in (overlay("staging"), chart("staging")):
        rendered = render_source(source, pin)
        images = {c["image"] for d in rendered.docs if d["kind"] == "Deployment"
                  for c in d["spec"]["template"]["spec"]["containers"]}
        assert images == {f"127.0.0.1:5000/shipyard/{svc}:fedcba987654@{digest}" for svc, digest in digests.items()}
    with pytest.raises(ShipyardError):  # the chart's schema takes only a sha256 digest
        render_source(chart("staging"), replace(pin, digests={"api": "latest"}))


def test_secret_template_is_documented_but_never_applied() -> None:
    kustomization = yaml.safe_load((ROOT / "k8s/base/kustomization.yaml").read_text())
    assert "secret.template.yaml" not in kustomization["resources"]
    template = (ROOT / "k8s/base/secret.template.yaml").read_text()
    assert "invoke k8s.secrets" in template and "--from-env-file=/dev/stdin" in template


# -- the checks can fail ---------------------------------------------------------------------------------------

def test_strict_schema_rejects_unknown_fields_wrong_types_and_removed_apis() -> None:
    rendered = render_source(overlay("dev"))
    deployment = copy.deepcopy(by_key(rendered)["Deployment/shipyard-api"])
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {}  # typo: unknown field
    deployment["spec"]["replicas"] = "three"
    pdb = copy.deepcopy(by_key(rendered)["PodDisruptionBudget/shipyard-api"])
    pdb["apiVersion"] = "policy/v1beta1"  # removed in 1.25
    crd_like = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    problems = [str(p) for p in schema.validate([deployment, pdb, crd_like], "test", ("1.30.0",))]
    assert any("livenessprobe" in p for p in problems)
    assert any("replicas" in p and "three" in p for p in problems)
    assert any("PodDisruptionBudget" in p and "no schema" in p for p in problems)
    assert any("Widget" in p for p in problems)


def test_static_checks_catch_unpinned_images_and_committed_secrets() -> None:
    rendered = render_source(overlay("dev"))
    docs = copy.deepcopy(rendered.docs)
    for doc in docs:
        if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "shipyard-web":
            doc["spec"]["template"]["spec"]["containers"][0]["image"] = "shipyard/web"
    docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "oops"}})
    from shipyard.k8s.render import Rendered

    problems = static_checks(Rendered(rendered.source, docs, []), sample_pin())
    assert any("shipyard/web was not pinned" in p for p in problems)
    assert any("a Secret in committed manifests" in p for p in problems)


def test_helm_lint_catches_schema_violations_and_broken_templates(tmp_path: Path) -> None:
    bad_values = tmp_path / "bad-values.yaml"
    bad_values.write_text("web:\n  replicas: two\nunknownKey: 1\n")
    from shipyard.k8s.sources import Source

    source = Source("helm", ROOT / "helm/shipyard", (bad_values,))
    problems = lint_chart(ROOT, source, sample_pin(), "1.30.0")
    assert any("unknownKey" in p for p in problems) and any("replicas" in p for p in problems)

    broken = tmp_path / "chart"
    shutil.copytree(ROOT / "helm/shipyard", broken)
    (broken / "templates" / "broken.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
                                                      "data:\n  a: b\n   c: d\n")
    problems = lint_chart(tmp_path, Source("helm", Path("chart")), sample_pin(), "1.30.0")
    assert problems and any("broken.yaml" in p for p in problems)
    with pytest.raises(ShipyardError, match="helm render failed"):
        render_source(Source("helm", Path("chart"), (bad_values,)), root=tmp_path)


def test_cli_render_and_validate(tmp_path: Path) -> None:
    """The tasks a person runs: `k8s.render --output` writes the pinned manifests of the release asked for, and
    `k8s.validate` prints one row per render and its verdict, exit 0."""
    import subprocess
    import sys

    invoke = str(Path(sys.executable).with_name("invoke"))
    sha = "0123456789abcdef0123456789abcdef01234567"
    out = tmp_path / "staging.yaml"
    proc = subprocess.run([invoke, "k8s.render", "--env", "k8s-staging", "--sha", sha, "--output", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wrote {out}"
    docs = [d for d in yaml.safe_load_all(out.read_text()) if d]
    images = {c["image"] for d in docs if d["kind"] == "Deployment"
              for c in d["spec"]["template"]["spec"]["containers"]}
    assert images == {f"127.0.0.1:5000/shipyard/{svc}:{sha[:12]}" for svc in ("api", "web")}, images
    proc = subprocess.run([invoke, "k8s.validate", "--no-policy"], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.strip().startswith(("kustomize ", "helm "))]
    assert len(rows) == len(sources()), proc.stdout
    assert proc.stdout.rstrip().endswith(f"k8s.validate: ok - {len(rows)} renders valid, policy scan SKIPPED "
                                         "(--no-policy) and in parity")
