"""Content hashes: which files a task reads, their sha256, and the task's cache key.

Files come from one `git ls-files` (tracked plus untracked-but-not-ignored), so build outputs and
node_modules never count as inputs. Hashes are remembered per (size, mtime, ctime, inode) in a small
stat cache, so an unchanged 1,000-package tree is re-keyed without reading its files again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from shipyard.commands import workspace as ws_cmd
from shipyard.facts.workspace import parse_nul_list
from shipyard.monorepo.affected import owners
from shipyard.monorepo.globs import GlobSet
from shipyard.monorepo.taskgraph import TaskDef, TaskGraph
from shipyard.run.base import Runner

KEY_VERSION = "shipyard-task-v1"
RACY_SECONDS = 2.0  # a file written this recently may change again within one mtime tick: never remember it
MAX_REMEMBERED = 200_000
WALK_SKIP = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".shipyard", ".next", ".mypy_cache",
                       ".pytest_cache", ".ruff_cache"})


def list_files(runner: Runner, root: Path) -> list[str]:
    """Every file of the workspace relative to `root`: git's view when it is a repository, else a walk."""
    result = runner.run(ws_cmd.list_files(), cwd=str(root), check=False, timeout=120)
    if result.ok:
        return parse_nul_list(result.stdout)
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in WALK_SKIP)
        rel = Path(folder).relative_to(root).as_posix()
        out += [f if rel == "." else f"{rel}/{f}" for f in files]
    return out


class FileHasher:
    """sha256 of files under `root`, with an optional persistent stat cache at `store`."""

    def __init__(self, root: Path, store: Path | None = None, racy_seconds: float = RACY_SECONDS) -> None:
        self.root = root
        self._root = str(root)
        self.store = store
        self.racy_ns = racy_seconds * 1e9
        self._old: dict[str, list[object]] = {}
        self._new: dict[str, list[object]] = {}
        self._memo: dict[str, str | None] = {}
        self._seen: dict[str, tuple[int, int]] = {}  # rel -> (size, mtime_ns) when its digest was taken
        self.read_count = 0  # files read and hashed (the tests' proof that stat data answered instead)
        if store is not None:
            with contextlib.suppress(OSError, ValueError):
                loaded = json.loads(store.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    self._old = loaded

    def digest(self, rel: str) -> str | None:
        """The file's sha256 hex digest, or None when it does not exist (or is not a regular file)."""
        if rel in self._memo:
            return self._memo[rel]
        value = self._digest(rel)
        self._memo[rel] = value
        return value

    def _digest(self, rel: str) -> str | None:
        path = f"{self._root}/{rel}"  # a str, not a Path: this runs once per file of the repository
        try:
            st = os.stat(path)  # noqa: PTH116
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        sig: list[object] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        self._seen[rel] = (st.st_size, st.st_mtime_ns)
        old = self._old.get(rel)
        if old is not None and old[:4] == sig:
            return str(old[4])
        digest = self._read(path)
        if digest is not None and time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > self.racy_ns:
            self._new[rel] = [*sig, digest]
        return digest

    def changed(self, rel: str, digest: str | None) -> bool:
        """Whether the file now differs from `digest` (taken earlier by this hasher): stat first, read if needed."""
        path = f"{self._root}/{rel}"
        try:
            st = os.stat(path)  # noqa: PTH116
        except OSError:
            return digest is not None
        if self._seen.get(rel) == (st.st_size, st.st_mtime_ns):
            return False
        return self._read(path) != digest

    def _read(self, path: str) -> str | None:
        self.read_count += 1
        h = hashlib.sha256()
        try:
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        except OSError:
            return None
        return h.hexdigest()

    def save(self) -> None:
        """Remember new hashes; once the table is large, entries of deleted files are dropped."""
        if self.store is None or not self._new:
            return
        merged = {**self._old, **self._new}
        if len(merged) > MAX_REMEMBERED:
            merged = {k: v for k, v in merged.items() if (self.root / k).exists()}
        with contextlib.suppress(OSError):
            self.store.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.store.with_name(f"{self.store.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(merged, separators=(",", ":")), encoding="utf-8")
            tmp.replace(self.store)


@dataclass(frozen=True)
class Planned:
    """A task with its cache key and what went into it."""

    id: str
    key: str
    inputs: tuple[str, ...]  # package-relative paths
    env: tuple[str, ...]  # names of the environment variables that were set and hashed
    #: every file hashed into the key (package inputs and global inputs), workspace-relative, with its digest:
    #: checked again after the task ran, to find a task that changes its own inputs
    watched: tuple[tuple[str, str], ...] = ()

    def changed_inputs(self, hasher: FileHasher) -> list[str]:
        """The watched files whose content differs now from what the key was computed from."""
        return [path for path, digest in self.watched if hasher.changed(path, digest)]


def task_key(task: TaskDef, package_dir: str, inputs: Sequence[tuple[str, str]],
             env: Sequence[tuple[str, str]], dep_keys: Sequence[str], global_hash: str,
             sources: Sequence[str] = ()) -> str:
    """The content hash of everything that can change a task's result. Pure.

    `sources`: content hashes of dependency packages that have no such task (consumed as source).
    """
    h = hashlib.sha256()
    spec = {"v": KEY_VERSION, "dir": package_dir, "task": task.name, "command": task.command,
            "outputs": list(task.outputs), "global": global_hash, "deps": sorted(dep_keys),
            "sources": sorted(sources)}
    h.update(json.dumps(spec, sort_keys=True).encode())
    for path, digest in inputs:
        h.update(f"\0f{path}\0{digest}".encode())
    for name, value in env:
        h.update(f"\0e{name}\0{hashlib.sha256(value.encode()).hexdigest()}".encode())
    return h.hexdigest()


def env_values(patterns: Iterable[str], environ: Mapping[str, str]) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for pattern in patterns:
        if pattern.endswith("*"):
            out.update({k: v for k, v in environ.items() if k.startswith(pattern[:-1])})
        elif pattern in environ:
            out[pattern] = environ[pattern]
    return sorted(out.items())


def global_files(files: Iterable[str], patterns: Sequence[str], hasher: FileHasher) -> list[tuple[str, str]]:
    """The global inputs that exist, sorted, with their digests."""
    globs = GlobSet(patterns)
    found = []
    for path in sorted(f for f in files if globs.match(f)):
        digest = hasher.digest(path)
        if digest is not None:
            found.append((path, digest))
    return found


def pairs_hash(pairs: Iterable[tuple[str, str]]) -> str:
    """One hash of (path, digest) pairs, in the order given."""
    h = hashlib.sha256()
    for path, digest in pairs:
        h.update(f"{path}\0{digest}\0".encode())
    return h.hexdigest()


def plan_keys(tasks: TaskGraph, files: Sequence[str], hasher: FileHasher, global_patterns: Sequence[str],
              all_outputs: Mapping[str, Sequence[str]], environ: Mapping[str, str],
              packages: Mapping[str, str]) -> dict[str, Planned]:
    """A key for every task, dependencies first.

    `all_outputs`: package -> every output glob of its tasks; `packages`: package name -> directory.
    """
    dirs = {directory: name for name, directory in packages.items()}
    by_package = owners(files, dirs)
    globals_ = global_files(files, global_patterns, hasher)
    glob_hash = pairs_hash(globals_)
    out: dict[str, Planned] = {}
    excluded: dict[str, GlobSet] = {}
    source_hashes: dict[str, str] = {}

    def files_of(name: str, directory: str, chosen: GlobSet | None) -> list[tuple[str, str]]:
        prefix = len(directory) + 1
        if name not in excluded:
            excluded[name] = GlobSet([p for p in all_outputs.get(name, ()) if not p.startswith("!")])
        skip = excluded[name]
        found: list[tuple[str, str]] = []
        for rel in sorted(f[prefix:] for f in by_package.get(name, [])):
            if (chosen is not None and not chosen.match(rel)) or (skip and skip.match(rel)):
                continue
            digest = hasher.digest(f"{directory}/{rel}")
            if digest is not None:
                found.append((rel, digest))
        return found

    def source_hash(name: str) -> str:
        if name not in source_hashes:
            h = hashlib.sha256(name.encode())
            for rel, digest in files_of(name, packages[name], None):
                h.update(f"\0{rel}\0{digest}".encode())
            source_hashes[name] = h.hexdigest()
        return source_hashes[name]

    for node in tasks.nodes.values():
        pkg = node.package
        chosen = GlobSet(node.task.inputs) if node.task.inputs is not None else None
        inputs = files_of(pkg.name, pkg.dir, chosen)
        env = env_values(node.task.env, environ)
        key = task_key(node.task, pkg.dir, inputs, env, [out[d].key for d in node.deps], glob_hash,
                       [source_hash(name) for name in node.sources])
        watched = (*((f"{pkg.dir}/{p}", d) for p, d in inputs), *globals_)
        out[node.id] = Planned(node.id, key, tuple(p for p, _ in inputs), tuple(n for n, _ in env), watched)
    return out
