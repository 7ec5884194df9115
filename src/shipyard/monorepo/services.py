"""Which deployable services an affected set touches (for `docker.build --affected`). Pure."""

from __future__ import annotations

import posixpath

from shipyard.config.loader import Config
from shipyard.config.schema import Service
from shipyard.monorepo.affected import Affected
from shipyard.monorepo.graph import Graph, Package, WorkspaceError


def match_package(ref: str, graph: Graph) -> Package | None:
    """By name, directory or Python name; else the one package whose unscoped name or folder is `ref`."""
    found = graph.find(ref)
    if found is not None:
        return found
    loose = [p for p in graph.packages.values() if ref in (p.name.rsplit("/", 1)[-1], p.basename)]
    return loose[0] if len(loose) == 1 else None


def service_package(name: str, service: Service, graph: Graph, config_name: str = "shipyard.yaml"
                    ) -> Package | None:
    """The package a service is built from: `package:` if set, else matched by name, then by context."""
    if service.package is not None:
        found = match_package(service.package, graph)
        if found is None:
            raise WorkspaceError(f"{config_name}: services.{name}.package: no package '{service.package}'"
                                 f" (packages: {', '.join(graph.packages)})")
        return found
    found = match_package(name, graph)
    if found is not None:
        return found
    context = posixpath.normpath(service.context)
    return next((pkg for pkg in graph.packages.values() if pkg.dir == context), None)


def _image_inputs_changed(service: Service, changed: tuple[str, ...]) -> bool:
    """The service's Dockerfile changed, or a file of a build context narrower than the repository."""
    dockerfile = posixpath.normpath(service.dockerfile)
    context = posixpath.normpath(service.context)
    return any(path == dockerfile or (context != "." and path.startswith(context + "/")) for path in changed)


def affected_services(config: Config, packages_affected: Affected) -> list[str]:
    """Services whose package (or one of its dependencies) is affected, or whose Dockerfile changed.

    A service that maps to no package cannot be judged, so it counts as affected: CI builds it
    rather than silently shipping a stale image.
    """
    graph = packages_affected.graph
    hit = set(packages_affected.packages)
    out = []
    for name, service in config.project.services.items():
        pkg = service_package(name, service, graph, config.path.name)
        if pkg is None or pkg.name in hit or _image_inputs_changed(service, packages_affected.changed_files):
            out.append(name)
    return out
