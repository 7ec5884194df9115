"""Which packages a set of changed files affects. Pure: changed paths and the graph in, a decision out."""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipyard.monorepo.globs import GlobSet
from shipyard.monorepo.graph import Graph


@dataclass(frozen=True)
class Affected:
    graph: Graph
    changed_files: tuple[str, ...]
    packages: tuple[str, ...]  # affected package names, dependencies first
    reasons: dict[str, str]  # package -> why it is affected
    global_change: str | None = None  # the global input whose change affects everything
    base: str | None = None
    merge_base: str | None = None
    head: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base, "merge_base": self.merge_base, "head": self.head,
            "changed_files": list(self.changed_files), "global_change": self.global_change,
            "packages": [{"name": name, "dir": self.graph.packages[name].dir,
                          "language": self.graph.packages[name].language, "reason": self.reasons[name]}
                         for name in self.packages],
        }


def owners(paths: Iterable[str], dirs: Mapping[str, str]) -> dict[str, list[str]]:
    """package name -> the paths under its directory (the deepest package directory wins)."""
    out: dict[str, list[str]] = {}
    for path in paths:
        folder = posixpath.dirname(path)
        while folder:
            name = dirs.get(folder)
            if name is not None:
                out.setdefault(name, []).append(path)
                break
            folder = posixpath.dirname(folder)
    return out


def compute(graph: Graph, changed: Sequence[str], global_inputs: Sequence[str],
            always_global: Sequence[str] = ("shipyard.yaml",)) -> Affected:
    changed = tuple(sorted(set(changed)))
    globs = GlobSet([*global_inputs, *always_global])
    order = graph.order()
    global_change = next((path for path in changed if globs.match(path)), None)
    if global_change is not None:
        reason = f"global input {global_change} changed"
        return Affected(graph, changed, tuple(order), dict.fromkeys(order, reason), global_change)
    dirs = {pkg.dir: name for name, pkg in graph.packages.items()}
    direct = owners(changed, dirs)
    reasons = {}
    for name, files in direct.items():
        more = f" (+{len(files) - 1} more)" if len(files) > 1 else ""
        reasons[name] = f"changed: {files[0]}{more}"
    everything = graph.with_dependents(direct)
    deps = graph.deps
    for name in order:  # dependencies first, so a dependent names a dependency already explained
        if name in everything and name not in reasons:
            via = sorted(d for d in deps[name] if d in everything)
            reasons[name] = f"depends on {', '.join(via)}"
    return Affected(graph, changed, tuple(n for n in order if n in everything), reasons)
