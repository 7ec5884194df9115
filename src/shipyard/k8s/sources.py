"""What can be rendered: every Kustomize overlay and every values file of every chart in the repository,
and the one source a configured environment deploys."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from shipyard.config.schema import KubernetesEnvironment
from shipyard.errors import ShipyardError

OVERLAYS = Path("k8s/overlays")
CHARTS = Path("helm")
DEFAULT_RELEASE = "shipyard"


@dataclass(frozen=True)
class Source:
    """One renderable input. For a chart, values are applied in order over the chart's values.yaml."""

    kind: Literal["kustomize", "helm"]
    path: Path
    values: tuple[Path, ...] = field(default=())
    release: str = DEFAULT_RELEASE

    @property
    def label(self) -> str:
        if self.kind == "kustomize":
            return f"kustomize {self.path.as_posix()}"
        shown = ", ".join(v.relative_to(self.path).as_posix() if v.is_relative_to(self.path) else v.as_posix()
                          for v in self.values) or "values.yaml"
        return f"helm {self.path.as_posix()} ({shown})"

    @property
    def environment(self) -> str | None:
        """dev/staging/production when the source is tied to one (overlay dir or values-<env>.yaml)."""
        if self.kind == "kustomize":
            return self.path.name
        names = [v.name for v in self.values]
        if len(names) == 1 and names[0].startswith("values-") and names[0].endswith(".yaml"):
            return names[0][len("values-"):-len(".yaml")]
        return None


def discover(root: Path) -> list[Source]:
    """Every overlay under k8s/overlays and, for every chart under helm/, its defaults, each values-*.yaml
    and each ci/*.yaml, with paths relative to root."""
    out: list[Source] = []
    for kustomization in sorted((root / OVERLAYS).glob("*/kustomization.yaml")):
        out.append(Source("kustomize", kustomization.parent.relative_to(root)))
    for chart_file in sorted((root / CHARTS).glob("*/Chart.yaml")):
        chart = chart_file.parent.relative_to(root)
        out.append(Source("helm", chart))
        extra = sorted((root / chart).glob("values-*.yaml")) + sorted((root / chart / "ci").glob("*.yaml"))
        out.extend(Source("helm", chart, (values.relative_to(root),)) for values in extra)
    return out


def for_environment(env_name: str, env: KubernetesEnvironment, root: Path) -> Source:
    if env.overlay is not None:
        path = Path(env.overlay)
        if not (root / path / "kustomization.yaml").is_file():
            raise ShipyardError(f"environment {env_name}: overlay {env.overlay} has no kustomization.yaml",
                                hint="fix `overlay:` in shipyard.yaml")
        return Source("kustomize", path)
    assert env.chart is not None
    chart = Path(env.chart)
    if not (root / chart / "Chart.yaml").is_file():
        raise ShipyardError(f"environment {env_name}: chart {env.chart} has no Chart.yaml",
                            hint="fix `chart:` in shipyard.yaml")
    for values in env.values:
        if not (root / values).is_file():
            raise ShipyardError(f"environment {env_name}: values file {values} does not exist",
                                hint="fix `values:` in shipyard.yaml")
    return Source("helm", chart, tuple(Path(v) for v in env.values), env.release or DEFAULT_RELEASE)
