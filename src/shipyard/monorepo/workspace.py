"""Find the workspace's packages on disk and read their manifests into a graph."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.facts.workspace import Manifest, ManifestError, parse_package_json, parse_pyproject
from shipyard.monorepo.graph import Graph, Package, WorkspaceError, build_graph
from shipyard.monorepo.index import candidate_dirs

if TYPE_CHECKING:  # pydantic is not imported on the indexed paths
    from shipyard.config.workspace import WorkspaceConfig

MANIFESTS = (("package.json", parse_package_json), ("pyproject.toml", parse_pyproject))


@dataclass(frozen=True)
class Workspace:
    root: Path
    config: WorkspaceConfig
    graph: Graph
    config_name: str = "shipyard.yaml"

    @property
    def packages(self) -> dict[str, Package]:
        return self.graph.packages


def read_manifest(root: Path, rel: str) -> Manifest | None:
    """The package's manifest: package.json wins over pyproject.toml when both exist."""
    for filename, parse in MANIFESTS:
        path = root / rel / filename
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise WorkspaceError(f"{rel}/{filename}: cannot read ({exc.__class__.__name__})") from None
        try:
            return parse(text, f"{rel}/{filename}")
        except ManifestError as exc:
            raise WorkspaceError(str(exc), hint=f"fix {rel}/{filename}") from None
    return None


def discover(root: Path, config: WorkspaceConfig, config_name: str = "shipyard.yaml") -> Workspace:
    manifests: dict[str, Manifest] = {}
    for rel in candidate_dirs(root, config.packages):
        manifest = read_manifest(root, rel)
        if manifest is not None:
            manifests[rel] = manifest
    if not manifests:
        raise WorkspaceError(
            f"no packages found under {', '.join(config.packages)} in {root}",
            hint=f"a package is a directory with a package.json or pyproject.toml; "
                 f"set workspace.packages in {config_name}")
    extra = {ref: settings.depends_on for ref, settings in config.overrides.items() if settings.depends_on}
    probe = build_graph(manifests, None, config_name)
    for ref in config.overrides:
        if probe.find(ref) is None:
            raise WorkspaceError(f"{config_name}: workspace.overrides.{ref}: no package with that name or directory"
                                 f" (packages: {', '.join(probe.packages)})")
    graph = build_graph(manifests, extra, config_name) if extra else probe
    return Workspace(root=root, config=config, graph=graph, config_name=config_name)
