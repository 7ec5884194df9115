"""The package graph: packages, their dependency edges, cycles, orders and closures. Pure."""

from __future__ import annotations

import heapq
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from typing import TYPE_CHECKING

from shipyard.errors import ShipyardError

if TYPE_CHECKING:  # manifests are parsed only on a full load; the indexed paths never import the parsers
    from shipyard.facts.workspace import Manifest


class WorkspaceError(ShipyardError):
    """The workspace cannot be understood: duplicate names, a cycle, an unknown package."""


@dataclass(frozen=True)
class Package:
    name: str
    dir: str  # POSIX, relative to the repository root
    language: str
    scripts: tuple[str, ...] = ()

    @property
    def basename(self) -> str:
        return posixpath.basename(self.dir)


@dataclass(frozen=True)
class Graph:
    packages: dict[str, Package]  # by name, ordered by directory
    deps: dict[str, tuple[str, ...]]  # name -> direct dependencies
    why: dict[tuple[str, str], str] = field(default_factory=dict)  # (pkg, dep) -> where the edge comes from
    # `order()`, once computed (or checked, from the index); not part of the graph's identity
    _order: list[str] = field(default_factory=list, compare=False, repr=False)

    def dependents(self) -> dict[str, tuple[str, ...]]:
        out: dict[str, list[str]] = {name: [] for name in self.packages}
        for name, deps in self.deps.items():
            for dep in deps:
                out[dep].append(name)
        return {name: tuple(sorted(users)) for name, users in out.items()}

    def with_dependents(self, names: Iterable[str]) -> set[str]:
        """`names` plus every package that depends on one of them, directly or not."""
        users = self.dependents()
        seen = set(names)
        stack = list(seen)
        while stack:
            for user in users[stack.pop()]:
                if user not in seen:
                    seen.add(user)
                    stack.append(user)
        return seen

    def order(self) -> list[str]:
        """Dependencies before dependents; ties broken by directory order (stable, deterministic)."""
        if not self._order:
            self._order.extend(topological(self.deps, list(self.packages)))
        return list(self._order)

    def is_order(self, names: list[str]) -> bool:
        """Whether `names` lists every package once, each after all of its dependencies."""
        seen: set[str] = set()
        for name in names:
            if name in seen or name not in self.deps or any(d not in seen for d in self.deps[name]):
                return False
            seen.add(name)
        return len(seen) == len(self.packages)

    def find(self, ref: str) -> Package | None:
        """A package by name, by directory, or by normalised Python name."""
        if ref in self.packages:
            return self.packages[ref]
        ref_dir = ref.rstrip("/")
        for package in self.packages.values():
            if package.dir == ref_dir:
                return package
        from shipyard.facts.workspace import normalize_python_name

        normal = normalize_python_name(ref)
        return self.packages.get(normal) if normal != ref else None


def find_cycle(deps: Mapping[str, Iterable[str]]) -> list[str] | None:
    """One dependency cycle as a path that ends where it starts (a -> b -> a), or None."""
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(deps, white)
    for start in deps:
        if color[start] != white:
            continue
        path: list[str] = [start]
        iters = [iter(sorted(deps[start]))]
        color[start] = grey
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                color[path.pop()] = black
                iters.pop()
                continue
            if color.get(nxt, black) == grey:
                return [*path[path.index(nxt):], nxt]
            if color.get(nxt) == white:
                color[nxt] = grey
                path.append(nxt)
                iters.append(iter(sorted(deps[nxt])))
    return None


def topological(deps: Mapping[str, Iterable[str]], order_hint: list[str]) -> list[str]:
    """The standard library's TopologicalSorter; of the nodes ready at once, the first in `order_hint` goes first
    (so the order is deterministic). Raises on a cycle, naming it as `find_cycle` does."""
    sorter: TopologicalSorter[str] = TopologicalSorter()
    for node in order_hint:
        sorter.add(node, *deps[node])
    try:
        sorter.prepare()
    except CycleError:
        cycle = find_cycle({n: deps[n] for n in order_hint}) or []
        raise WorkspaceError(f"dependency cycle: {' -> '.join(cycle)}",
                             hint="remove one of these dependencies") from None
    rank = {node: i for i, node in enumerate(order_hint)}
    ready = [(rank[n], n) for n in sorter.get_ready()]
    heapq.heapify(ready)
    out: list[str] = []
    while ready:
        node = heapq.heappop(ready)[1]
        out.append(node)
        sorter.done(node)
        for user in sorter.get_ready():
            heapq.heappush(ready, (rank[user], user))
    return out


def build_graph(manifests: Mapping[str, Manifest], extra_deps: Mapping[str, Iterable[str]] | None = None,
                config_name: str = "shipyard.yaml") -> Graph:
    """Packages and edges from manifests (keyed by directory) plus explicit `depends_on` (keyed by name).

    Raises WorkspaceError on two packages with one name, an unknown explicit dependency, or a cycle.
    """
    packages: dict[str, Package] = {}
    by_dir: dict[str, str] = {}
    for directory in sorted(manifests):
        manifest = manifests[directory]
        name = manifest.name or posixpath.basename(directory)
        if name in packages:
            raise WorkspaceError(f"two packages are named '{name}': {packages[name].dir} and {directory}",
                                 hint="rename one in its package.json or pyproject.toml")
        packages[name] = Package(name, directory, manifest.language, manifest.scripts)
        by_dir[directory] = name
    from shipyard.facts.workspace import normalize_python_name

    python_names = {normalize_python_name(n): n for n, p in packages.items() if p.language == "python"}
    deps: dict[str, set[str]] = {name: set() for name in packages}
    why: dict[tuple[str, str], str] = {}
    for directory, manifest in manifests.items():
        name = by_dir[directory]
        source = "package.json" if manifest.language == "node" else "pyproject.toml"
        for dep in manifest.workspace_deps:
            target = dep if manifest.language == "node" else python_names.get(dep)
            if target in packages and target != name:
                deps[name].add(target)
                why.setdefault((name, target), source)
        for rel in manifest.path_deps:
            target_dir = posixpath.normpath(posixpath.join(directory, rel))
            if target_dir in by_dir and by_dir[target_dir] != name:
                deps[name].add(by_dir[target_dir])
                why.setdefault((name, by_dir[target_dir]), source)
    for ref, extra in (extra_deps or {}).items():
        for dep in extra:
            graph_so_far = Graph(packages, {})
            target_pkg = graph_so_far.find(dep)
            if target_pkg is None:
                known = ", ".join(packages) or "none"
                raise WorkspaceError(f"{config_name}: workspace.overrides.{ref}.depends_on: no package '{dep}'"
                                     f" (packages: {known})")
            owner = graph_so_far.find(ref)
            assert owner is not None
            if target_pkg.name != owner.name:
                deps[owner.name].add(target_pkg.name)
                why.setdefault((owner.name, target_pkg.name), config_name)
    frozen = {name: tuple(sorted(d)) for name, d in deps.items()}
    cycle = find_cycle(frozen)
    if cycle:
        raise WorkspaceError(f"package dependency cycle: {' -> '.join(cycle)}",
                             hint="remove one of these dependencies (a manifest or workspace.overrides)")
    return Graph(packages, frozen, why)
