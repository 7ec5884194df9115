"""Plain-text views of the package graph and the affected set (no rich: `monorepo.affected` starts fast)."""

from __future__ import annotations

from collections.abc import Sequence

from shipyard.monorepo.affected import Affected
from shipyard.monorepo.graph import Graph


def graph_text(graph: Graph) -> str:
    users = graph.dependents()
    lines = []
    for name in graph.order():
        pkg = graph.packages[name]
        lines.append(f"{name}  ({pkg.dir}, {pkg.language})")
        for dep in graph.deps[name]:
            lines.append(f"  -> {dep}  [{graph.why.get((name, dep), '?')}]")
        if users[name]:
            lines.append(f"  <- used by {', '.join(users[name])}")
    edges = sum(len(d) for d in graph.deps.values())
    lines.append(f"\n{len(graph.packages)} package(s), {edges} dependency edge(s)")
    return "\n".join(lines)


def graph_mermaid(graph: Graph, highlight: Sequence[str] = ()) -> str:
    ids = {name: f"p{i}" for i, name in enumerate(graph.order())}
    lines = ["graph TD"]
    for name, node_id in ids.items():
        label = f"{name}<br/><small>{graph.packages[name].dir}</small>".replace('"', "#quot;")
        lines.append(f'  {node_id}["{label}"]')
    for name in ids:
        for dep in graph.deps[name]:
            lines.append(f"  {ids[name]} --> {ids[dep]}")
    if highlight:
        lines.append("  classDef affected fill:#fde68a,stroke:#b45309")
        lines.append(f"  class {','.join(ids[n] for n in highlight)} affected")
    return "\n".join(lines)


def affected_text(affected: Affected) -> str:
    head = (f"base {affected.base} (merge base {(affected.merge_base or '')[:12]}), head {affected.head}:"
            f" {len(affected.changed_files)} changed file(s)")
    if not affected.packages:
        return head + "\nno package is affected"
    width = max(len(n) for n in affected.packages)
    rows = [f"  {name:<{width}}  {affected.graph.packages[name].dir:<24} {affected.reasons[name]}"
            for name in affected.packages]
    return "\n".join([head, f"{len(affected.packages)} of {len(affected.graph.packages)} package(s) affected:",
                      *rows])
