"""A small on-disk index of the package graph, validated by stat data on every use.

Reading 1,000 manifests and validating `shipyard.yaml` (pydantic) cost more than the rest of
`monorepo.affected` together. The index keeps what they produced: the package graph, the workspace's package
patterns and global inputs, and the configuration file's path relative to the root. It is used only while

  * `shipyard.yaml` has the same content (its sha256: read and hashed on every use, a few microseconds),
  * the package patterns match the same directories (recomputed: one scandir per pattern), and
  * every candidate directory's package.json and pyproject.toml has the same (size, mtime, ctime, inode), or is
    still absent; an edit that keeps size and mtime still moves ctime, which nobody can set back.

Anything else is a miss: the caller does the full load and discovery, then saves a fresh index. An index is
never written while a manifest was changed less than RACY_SECONDS ago (the same racy-file rule as the file
hashes), so a change within one timestamp tick cannot hide. It lives in `<root>/.shipyard/index/` with a
`.gitignore` of its own, so it is never an input, a changed file or an untracked file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.monorepo.graph import Graph, Package
from shipyard.util.locate import nearest_config

if TYPE_CHECKING:
    from shipyard.monorepo.taskgraph import TaskDef

VERSION = 1
RACY_SECONDS = 2.0
INDEX_DIR = ".shipyard/index"
INDEX_NAME = "workspace.json"
MANIFEST_NAMES = ("package.json", "pyproject.toml")


@dataclass(frozen=True)
class Snapshot:
    """What the index gives back on a hit: enough for `monorepo.affected` without loading the configuration."""

    root: Path
    config_path: Path
    config_rel: str
    global_inputs: tuple[str, ...]
    patterns: tuple[str, ...]
    overrides_deps: dict[str, tuple[str, ...]]
    graph: Graph
    tasks_json: dict[str, Any] | None = None  # parsed by `tasks` only when a run needs them
    cache: tuple[bool, str, int] = (False, "", 0)  # workspace.cache: enabled, dir, max bytes

    def tasks(self) -> dict[str, dict[str, TaskDef]] | None:
        """Every package's resolved tasks; None when resolving them failed (only the full path can say why)."""
        from shipyard.monorepo.taskgraph import TaskDef

        if self.tasks_json is None:
            return None
        try:
            tasks = {str(pkg): {str(name): TaskDef.from_json(str(pkg), spec) for name, spec in defs.items()}
                     for pkg, defs in self.tasks_json.items()}
        except (ValueError, TypeError, AttributeError):
            return None
        return tasks if set(tasks) == set(self.graph.packages) else None


def find_config(start: Path | None = None) -> Path | None:
    """$SHIPYARD_CONFIG, or the nearest shipyard.yaml upwards (as the loader finds it); None when there is none."""
    return nearest_config(start)


def index_file(root: Path) -> Path:
    return root / INDEX_DIR / INDEX_NAME


def _sig(path: str) -> list[int] | None:
    try:
        st = os.stat(path)  # noqa: PTH116
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _signatures(root: Path, dirs: list[str]) -> dict[str, list[list[int] | None]]:
    base = str(root)
    return {rel: [_sig(f"{base}/{rel}/{name}") for name in MANIFEST_NAMES] for rel in dirs}


def _config_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _graph_json(graph: Graph) -> dict[str, Any]:
    return {"packages": [[p.name, p.dir, p.language, list(p.scripts)] for p in graph.packages.values()],
            "deps": {name: list(deps) for name, deps in graph.deps.items()},
            "why": [[a, b, why] for (a, b), why in graph.why.items()]}


def _graph_from(data: dict[str, Any]) -> Graph:
    packages = {str(n): Package(str(n), str(d), str(lang), tuple(str(s) for s in scripts))
                for n, d, lang, scripts in data["packages"]}
    deps = {str(name): tuple(str(d) for d in items) for name, items in data["deps"].items()}
    if set(deps) != set(packages) or any(d not in packages for items in deps.values() for d in items):
        raise ValueError("graph edges name unknown packages")
    return Graph(packages, deps, {(str(a), str(b)): str(w) for a, b, w in data["why"]})


def load(root: Path, config_path: Path) -> Snapshot | None:
    """The indexed snapshot when every check passes, else None (a miss; never a wrong answer)."""
    from shipyard.monorepo.workspace import _candidate_dirs

    try:
        data = json.loads(index_file(root).read_text(encoding="utf-8"))
        if data.get("v") != VERSION or data.get("config_path") != str(config_path):
            return None
        if data.get("config_sha256") != _config_digest(config_path):
            return None
        patterns = [str(p) for p in data["patterns"]]
        stored: dict[str, Any] = data["manifests"]
        dirs = _candidate_dirs(root, patterns)
        if dirs != sorted(stored) or _signatures(root, dirs) != stored:
            return None
        extra = {str(k): tuple(str(d) for d in v) for k, v in data["overrides_deps"].items()}
        graph = _graph_from(data["graph"])
        tasks = data.get("tasks")
        if tasks is not None and not isinstance(tasks, dict):
            raise TypeError("tasks is not a mapping")
        enabled, folder, max_bytes = data["cache"]
        return Snapshot(root, config_path, str(data["config_rel"]), tuple(str(g) for g in data["global_inputs"]),
                        tuple(patterns), extra, graph, tasks, (bool(enabled), str(folder), int(max_bytes)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def save(root: Path, config_path: Path, patterns: list[str], global_inputs: list[str], config_rel: str,
         overrides_deps: dict[str, tuple[str, ...]], graph: Graph, tasks: dict[str, dict[str, TaskDef]] | None,
         cache: tuple[bool, str, int], racy_seconds: float | None = None) -> bool:
    """Write the index for a graph just built from disk. Returns whether it was written.

    Not written when a manifest or the configuration changed within `racy_seconds` (it could change again
    within the same timestamp tick and go unnoticed); nor when the configuration cannot be read.
    """
    from shipyard.monorepo.workspace import _candidate_dirs

    digest = _config_digest(config_path)
    if digest is None:
        return False
    dirs = _candidate_dirs(root, patterns)
    manifests = _signatures(root, dirs)
    newest = max([s[1] for sigs in manifests.values() for s in sigs if s is not None]
                 + [s[2] for sigs in manifests.values() for s in sigs if s is not None] + [0])
    config_sig = _sig(str(config_path))
    if config_sig is not None:
        newest = max(newest, config_sig[1], config_sig[2])
    if time.time_ns() - newest <= (RACY_SECONDS if racy_seconds is None else racy_seconds) * 1e9:
        return False
    data = {"v": VERSION, "config_path": str(config_path), "config_sha256": digest, "patterns": patterns,
            "global_inputs": global_inputs, "config_rel": config_rel, "manifests": manifests,
            "overrides_deps": {k: list(v) for k, v in overrides_deps.items()},
            "graph": _graph_json(graph), "cache": list(cache),
            "tasks": None if tasks is None else {pkg: {name: t.to_json() for name, t in defs.items()}
                                                 for pkg, defs in tasks.items()}}
    folder = root / INDEX_DIR
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Shipyard's workspace index: never an input, never committed\n*\n",
                              encoding="utf-8")
        tmp = folder / f"{INDEX_NAME}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        tmp.replace(folder / INDEX_NAME)
        return True
    return False
