"""A small on-disk index of the package graph, validated by stat data on every use.

Reading 1,000 manifests and validating `shipyard.yaml` (pydantic) cost more than the rest of
`monorepo.affected` together. The index keeps what they produced: the package graph (and its order), the
workspace's package patterns and global inputs, each package's resolved tasks, and the configuration file's
path relative to the root. It is used only while

  * `shipyard.yaml` has the same (size, mtime, ctime, inode), or else the same content (sha256);
  * the package patterns match the same directories (recomputed: one scandir per pattern); and
  * every candidate directory's package.json and pyproject.toml has the same (size, mtime, ctime, inode), or is
    still absent; an edit that keeps size and mtime still moves ctime, which nobody can set back.

Anything else is a miss: the caller does the full load and discovery, then saves a fresh index. An index is
written only when nothing it describes changed while the full load read it (the signatures are taken before
and compared after), nor in the RACY_SECONDS before (a change within one timestamp tick could otherwise hide).
It lives in `<root>/.shipyard/index/` with a `.gitignore` of its own, so it is never an input, a changed file or
an untracked file.

The file is a `marshal` record (4 times faster to read than the same data as JSON, which was an eighth of
`monorepo.affected`'s own time at 1,000 packages) after a magic line and the record's CRC-32: what
`monorepo.affected` needs (checks and graph), and the tasks as JSON text, which only `monorepo.run` parses. A file
whose CRC does not match (truncated, damaged: even a consistent renaming inside it) or that does not read back as
exactly that shape (another Python's marshal) is a miss, like any other stale index.
"""

from __future__ import annotations

import contextlib
import json
import marshal
import os
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard.monorepo.graph import Graph, Package
from shipyard.util.locate import nearest_config

if TYPE_CHECKING:
    from shipyard.monorepo.taskgraph import TaskDef

VERSION = 3
RACY_SECONDS = 2.0
INDEX_DIR = ".shipyard/index"
INDEX_NAME = "workspace.index"
MAGIC = b"shipyard-index\n"  # then the payload's CRC-32 (4 bytes), then the payload
MANIFEST_NAMES = ("package.json", "pyproject.toml")
SKIP_DIRS = frozenset({"node_modules", ".git", ".venv", "venv", "__pycache__", ".shipyard"})
ABSENT = (-1, -1, -1, -1)  # the signature of a manifest that does not exist (no file has size -1)


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
    tasks_text: str = field(default="null", repr=False)  # parsed by `tasks` only when a run needs them
    cache: tuple[bool, str, int] = (False, "", 0)  # workspace.cache: enabled, dir, max bytes

    def tasks(self) -> dict[str, dict[str, TaskDef]] | None:
        """Every package's resolved tasks; None when resolving them failed (only the full path can say why)."""
        from shipyard.monorepo.taskgraph import TaskDef

        try:
            data = json.loads(self.tasks_text)
            if data is None:
                return None
            tasks = {str(pkg): {str(name): TaskDef.from_json(str(pkg), spec) for name, spec in defs.items()}
                     for pkg, defs in data.items()}
        except (ValueError, TypeError, AttributeError):
            return None
        return tasks if set(tasks) == set(self.graph.packages) else None


@dataclass(frozen=True)
class Signatures:
    """The stat data an index is validated against, taken before a full load reads the files."""

    taken_ns: int
    config: tuple[int, ...] | None
    config_sha256: str | None
    dirs: list[str]
    manifests: list[int]


def find_config(start: Path | None = None) -> Path | None:
    """$SHIPYARD_CONFIG, or the nearest shipyard.yaml upwards (as the loader finds it); None when there is none."""
    return nearest_config(start)


def index_file(root: Path) -> Path:
    return root / INDEX_DIR / INDEX_NAME


def _matches(root: Path, pattern: str) -> list[str]:
    """Directories matching one glob; `dir/*` (the common case) is a single scandir."""
    head, _, last = pattern.rpartition("/")
    if last == "*" and not any(ch in head for ch in "*?["):
        try:
            with os.scandir(root / head if head else root) as entries:
                return [f"{head}/{e.name}" if head else e.name for e in entries if e.is_dir()]
        except OSError:
            return []
    return [p.relative_to(root).as_posix() for p in root.glob(pattern) if p.is_dir()]


def candidate_dirs(root: Path, patterns: list[str] | tuple[str, ...]) -> list[str]:
    """The directories the package patterns match (`!glob` excludes), sorted; a package is one with a manifest."""
    excludes = [p.removeprefix("!") for p in patterns if p.startswith("!")]
    exclude = None
    if excludes:
        from shipyard.monorepo.globs import GlobSet

        exclude = GlobSet(excludes)
    found: set[str] = set()
    for pattern in (p for p in patterns if not p.startswith("!")):
        for rel in _matches(root, pattern.rstrip("/")):
            if any(part in SKIP_DIRS or part.startswith(".") for part in rel.split("/")):
                continue
            if not (exclude is not None and exclude.match(rel)):
                found.add(rel)
    return sorted(found)


def _sig(path: str) -> tuple[int, ...]:
    try:
        st = os.stat(path)  # noqa: PTH116
    except OSError:
        return ABSENT
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def _manifest_sigs(root: Path, dirs: list[str]) -> list[int]:
    """Four numbers per manifest name per directory, in order (ABSENT where there is none)."""
    base = str(root)
    out: list[int] = []
    for rel in dirs:
        for name in MANIFEST_NAMES:
            out.extend(_sig(f"{base}/{rel}/{name}"))
    return out


def _manifests_unchanged(root: Path, dirs: list[str], stored: list[int]) -> bool:
    """Whether `_manifest_sigs(root, dirs) == stored`, without a stat (or an exception) per absent manifest."""
    if len(stored) != 4 * len(MANIFEST_NAMES) * len(dirs):
        return False
    base, exists, stat, i = str(root), os.access, os.stat, 0
    for rel in dirs:
        for name in MANIFEST_NAMES:
            path = f"{base}/{rel}/{name}"
            if stored[i] < 0:
                if exists(path, os.F_OK):
                    return False
            else:
                try:
                    st = stat(path)
                except OSError:
                    return False
                if (st.st_size != stored[i] or st.st_mtime_ns != stored[i + 1] or st.st_ctime_ns != stored[i + 2]
                        or st.st_ino != stored[i + 3]):
                    return False
            i += 4
    return True


def _config_digest(path: Path) -> str | None:
    import hashlib  # only when the configuration's stat data moved

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def signatures(root: Path, config_path: Path, patterns: list[str] | tuple[str, ...]) -> Signatures:
    """Take them now: before a full load reads the configuration's packages (then `save` compares)."""
    taken = time.time_ns()
    config = _sig(str(config_path))
    dirs = candidate_dirs(root, patterns)
    return Signatures(taken, None if config == ABSENT else config, _config_digest(config_path), dirs,
                      _manifest_sigs(root, dirs))


def _strings(*groups: Any) -> bool:
    return all(type(item) is str for group in groups for item in group)


def _graph_from(data: dict[str, Any]) -> Graph:
    rows = data["packages"]
    packages = {name: Package(name, folder, language, tuple(scripts)) for name, folder, language, scripts in rows}
    deps = {name: tuple(items) for name, items in data["deps"].items()}
    why = {(a, b): w for a, b, w in data["why"]}
    order = data["order"]
    # JSON gives the types it was given: a hand-edited index with other types, or with edges to packages it does
    # not list, or an order that does not respect the edges, is a miss
    if not (_strings(packages, (p.dir for p in packages.values()), (p.language for p in packages.values()),
                     *(p.scripts for p in packages.values()), *deps.values(), why.values())
            and set(deps) == set(packages) and all(d in packages for items in deps.values() for d in items)
            and len(packages) == len(rows) and all(a in packages and b in deps[a] for a, b in why)):
        raise ValueError("the stored graph is not a graph of these packages")
    graph = Graph(packages, deps, why, order)
    if not graph.is_order(order):
        raise ValueError("the stored order is not an order of this graph")
    return graph


def _graph_json(graph: Graph) -> dict[str, Any]:
    return {"packages": [[p.name, p.dir, p.language, list(p.scripts)] for p in graph.packages.values()],
            "deps": {name: list(deps) for name, deps in graph.deps.items()},
            "why": [[a, b, why] for (a, b), why in graph.why.items()], "order": graph.order()}


def read_raw(root: Path) -> tuple[dict[str, Any], str]:
    """The stored record: the core (checks and graph) and the tasks' JSON text. ValueError when it is not one."""
    blob = index_file(root).read_bytes()
    head, payload = blob[:len(MAGIC) + 4], blob[len(MAGIC) + 4:]
    if head[:len(MAGIC)] != MAGIC or int.from_bytes(head[len(MAGIC):], "big") != zlib.crc32(payload):
        raise ValueError("not an index, or a damaged one")
    try:
        # our own file, written by `write_raw` and checked against its CRC above (a damaged or foreign file
        # never reaches marshal)
        record = marshal.loads(payload)  # noqa: S302
    except (EOFError, TypeError) as exc:
        raise ValueError(f"not an index: {exc}") from None
    if not (type(record) is tuple and len(record) == 2 and type(record[0]) is dict and type(record[1]) is str):
        raise ValueError("not an index")
    return record[0], record[1]


def write_raw(root: Path, core: dict[str, Any], tasks_text: str) -> None:
    """Replace the index atomically (a reader sees the old record or the new one)."""
    payload = marshal.dumps((core, tasks_text))
    folder = root / INDEX_DIR
    tmp = folder / f"{INDEX_NAME}.{os.getpid()}.tmp"
    tmp.write_bytes(MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload)
    tmp.replace(folder / INDEX_NAME)


def load(root: Path, config_path: Path) -> Snapshot | None:
    """The indexed snapshot when every check passes, else None (a miss; never a wrong answer)."""
    try:
        data, tasks_text = read_raw(root)
        if data.get("v") != VERSION or data.get("config_path") != str(config_path):
            return None
        config = _sig(str(config_path))
        if config == ABSENT:
            return None
        if list(config) != data["config_sig"] and _config_digest(config_path) != data["config_sha256"]:
            return None
        patterns = [str(p) for p in data["patterns"]]
        dirs = candidate_dirs(root, patterns)
        if dirs != data["dirs"] or not _manifests_unchanged(root, dirs, data["manifests"]):
            return None
        extra = {str(k): tuple(str(d) for d in v) for k, v in data["overrides_deps"].items()}
        graph = _graph_from(data["graph"])
        enabled, folder, max_bytes = data["cache"]
        return Snapshot(root, config_path, str(data["config_rel"]), tuple(str(g) for g in data["global_inputs"]),
                        tuple(patterns), extra, graph, tasks_text or "null",
                        (bool(enabled), str(folder), int(max_bytes)))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def save(root: Path, config_path: Path, patterns: list[str], global_inputs: list[str], config_rel: str,
         overrides_deps: dict[str, tuple[str, ...]], graph: Graph, tasks: dict[str, dict[str, TaskDef]] | None,
         cache: tuple[bool, str, int], before: Signatures, racy_seconds: float | None = None) -> bool:
    """Write the index for a graph just built from disk, `before` being the signatures taken before that.
    Returns whether it was written.

    Not written when the configuration or a manifest changed since `before` (the graph may describe either
    version), or less than `racy_seconds` before it (it could change again within the same timestamp tick and
    go unnoticed); nor when the configuration cannot be read.
    """
    now = signatures(root, config_path, patterns)
    if (now.config is None or now.config_sha256 is None or (now.config, now.config_sha256, now.dirs, now.manifests)
            != (before.config, before.config_sha256, before.dirs, before.manifests)):
        return False
    stamps = [now.config[1], now.config[2]]
    for i in range(0, len(now.manifests), 4):
        if now.manifests[i] >= 0:
            stamps += now.manifests[i + 1:i + 3]
    if max(stamps) >= before.taken_ns - (RACY_SECONDS if racy_seconds is None else racy_seconds) * 1e9:
        return False
    core = {"v": VERSION, "config_path": str(config_path), "config_sig": list(now.config),
            "config_sha256": now.config_sha256, "patterns": patterns, "global_inputs": global_inputs,
            "config_rel": config_rel, "dirs": now.dirs, "manifests": now.manifests,
            "overrides_deps": {k: list(v) for k, v in overrides_deps.items()},
            "graph": _graph_json(graph), "cache": list(cache)}
    tasks_json = None if tasks is None else {pkg: {name: t.to_json() for name, t in defs.items()}
                                             for pkg, defs in tasks.items()}
    folder = root / INDEX_DIR
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# Shipyard's workspace index: never an input, never committed\n*\n",
                              encoding="utf-8")
        write_raw(root, core, json.dumps(tasks_json, separators=(",", ":")))
        return True
    return False
