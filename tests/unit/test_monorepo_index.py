"""The workspace index: a hit gives exactly what discovery gives; anything stale is a miss, never a wrong hit."""

from __future__ import annotations

import json
import marshal
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shipyard.config import load
from shipyard.monorepo import index, runs, session
from shipyard.monorepo.graph import Graph
from shipyard.monorepo.workspace import discover

CONFIG = """\
project: demo
registry: {address: 127.0.0.1:5000, namespace: demo}
services:
  web: {port: 3000, context: ., dockerfile: docker/web.Dockerfile}
workspace:
  packages: [packages/*]
  global_inputs: [package-lock.json]
  defaults:
    node:
      build:
        command: mkdir -p dist && cat src/*.txt > dist/out.txt
        inputs: [src/**, package.json]
        outputs: [dist/**]
        depends_on: [^build]
"""


def package(root: Path, name: str, deps: dict[str, str] | None = None) -> Path:
    manifest = root / "packages" / name / "package.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({"name": name, "dependencies": deps or {}}))
    return manifest


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "shipyard.yaml").write_text(CONFIG)
    package(tmp_path, "a")
    package(tmp_path, "b", {"a": "*"})
    package(tmp_path, "c", {"b": "*"})
    monkeypatch.setattr(index, "RACY_SECONDS", 0.0)  # files written just now may be indexed in these tests
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHIPYARD_CONFIG", raising=False)
    return tmp_path


def indexed_graph(root: Path) -> Graph | None:
    snap = index.load(root, (root / "shipyard.yaml").resolve())
    return None if snap is None else snap.graph


def fresh_graph(root: Path) -> Graph:
    config = load(root / "shipyard.yaml")
    return discover(config.root, config.project.workspace, config.path.name).graph


def build_index(root: Path) -> None:
    session.open_workspace(load(root / "shipyard.yaml"))
    assert indexed_graph(root) is not None


def test_a_valid_index_gives_the_discovered_graph_and_tasks(root: Path) -> None:
    build_index(root)
    assert indexed_graph(root) == fresh_graph(root)
    setup = runs.indexed_setup()
    assert setup is not None
    full = runs.setup_of(load(root / "shipyard.yaml"))
    assert setup.tasks == full.tasks and setup.graph == full.graph
    assert (setup.global_inputs, setup.config_rel) == (full.global_inputs, full.config_rel)
    assert setup.cache is not None and full.cache is not None and setup.cache.dir == full.cache.dir
    assert (root / ".shipyard/index/.gitignore").read_text().strip().endswith("*")


def test_an_edited_manifest_is_a_miss_and_the_new_graph_is_used(root: Path) -> None:
    build_index(root)
    package(root, "c", {"a": "*"})  # c now depends on a, not b
    assert indexed_graph(root) is None
    ws = session.open_workspace(load(root / "shipyard.yaml"))
    assert ws.graph.deps["c"] == ("a",)
    assert indexed_graph(root) == ws.graph  # and indexed again


def test_a_manifest_changed_with_the_same_size_and_mtime_is_a_miss(root: Path) -> None:
    build_index(root)
    manifest = root / "packages/c/package.json"
    before = manifest.stat()
    text = manifest.read_text()
    manifest.write_text(text.replace('"b"', '"a"'))  # same length
    os.utime(manifest, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = manifest.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert indexed_graph(root) is None  # ctime moved: nobody can set it back
    assert session.open_workspace(load(root / "shipyard.yaml")).graph.deps["c"] == ("a",)


def test_a_package_added_or_removed_is_a_miss(root: Path) -> None:
    build_index(root)
    package(root, "d", {"c": "*"})
    assert indexed_graph(root) is None
    assert "d" in session.open_workspace(load(root / "shipyard.yaml")).graph.packages
    assert indexed_graph(root) is not None
    (root / "packages/d/package.json").unlink()
    (root / "packages/d").rmdir()
    assert indexed_graph(root) is None
    assert "d" not in session.open_workspace(load(root / "shipyard.yaml")).graph.packages


def test_a_pyproject_gaining_a_package_json_is_a_miss(root: Path) -> None:
    (root / "packages/py").mkdir()
    (root / "packages/py/pyproject.toml").write_text('[project]\nname = "py"\nversion = "1"\n')
    build_index(root)
    assert indexed_graph(root) is not None and indexed_graph(root).packages["py"].language == "python"  # type: ignore[union-attr]
    package(root, "py")  # package.json wins over pyproject.toml
    assert indexed_graph(root) is None
    assert session.open_workspace(load(root / "shipyard.yaml")).graph.packages["py"].language == "node"


def test_an_edited_configuration_is_a_miss(root: Path) -> None:
    build_index(root)
    config = root / "shipyard.yaml"
    config.write_text(CONFIG.replace("packages: [packages/*]", "packages: [packages/a, packages/b]"))
    assert runs.indexed_setup() is None
    assert session.find_affected_indexed(runner=None, base="main") is None  # type: ignore[arg-type]
    assert sorted(session.open_workspace(load(config)).graph.packages) == ["a", "b"]


def test_a_recent_manifest_is_never_indexed(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index, "RACY_SECONDS", 60.0)
    session.open_workspace(load(root / "shipyard.yaml"))
    assert not index.index_file(root).exists()


@pytest.mark.parametrize("damage", [b"", b"{", b'{"v": 1}', b"[]", b"null", "right CRC, wrong shape",
                                    "truncated", "a byte flipped"])
def test_a_damaged_index_is_a_miss(root: Path, damage: bytes | str) -> None:
    build_index(root)
    stored = index.index_file(root).read_bytes()
    if damage == "truncated":
        damage = stored[:len(stored) // 2]
    elif damage == "a byte flipped":  # a package's name: marshal stores it once, so the graph stays consistent
        at = stored.rindex(b"packages/b")
        damage = stored[:at + 9] + b"z" + stored[at + 10:]
    elif damage == "right CRC, wrong shape":
        payload = marshal.dumps({"v": index.VERSION})
        damage = index.MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload
    assert isinstance(damage, bytes)
    index.index_file(root).write_bytes(damage)
    assert indexed_graph(root) is None
    assert runs.indexed_setup() is None
    assert session.open_workspace(load(root / "shipyard.yaml")).graph == fresh_graph(root)


def edit_index(root: Path, edit: Callable[[dict[str, Any]], object]) -> None:
    """Change the index's core (the checks and the graph) as a hand would, keeping the rest."""
    data, tasks_text = index.read_raw(root)
    edit(data)
    index.write_raw(root, data, tasks_text)


@pytest.mark.parametrize("edit", [
    lambda d: d["graph"]["deps"].__setitem__("c", ["zzz"]),  # an edge to a package it does not list
    lambda d: d["graph"]["order"].reverse(),  # an order that puts dependents first
    lambda d: d["graph"]["packages"][0].__setitem__(1, 7),  # a directory that is not a string
    lambda d: d["manifests"].pop(),  # signatures that do not cover every manifest
], ids=["unknown-package", "order", "type", "signatures"])
def test_an_index_edited_by_hand_into_nonsense_is_a_miss(root: Path, edit: Callable[[dict[str, Any]], object]) -> None:
    build_index(root)
    edit_index(root, edit)
    assert indexed_graph(root) is None
    assert session.open_workspace(load(root / "shipyard.yaml")).graph == fresh_graph(root)


def test_a_task_without_a_command_is_not_indexed_for_runs(root: Path) -> None:
    (root / "shipyard.yaml").write_text(CONFIG + "  overrides:\n    a:\n      tasks:\n        lint: {}\n")
    session.open_workspace(load(root / "shipyard.yaml"))
    snap = index.load(root, (root / "shipyard.yaml").resolve())
    assert snap is not None and snap.tasks() is None
    assert runs.indexed_setup() is None  # the full path says which task lacks a command


def test_a_configuration_touched_but_unchanged_is_still_a_hit(root: Path) -> None:
    build_index(root)
    config = root / "shipyard.yaml"
    config.write_text(config.read_text())  # new mtime and ctime, same content: the sha256 decides
    assert indexed_graph(root) == fresh_graph(root)


def test_a_configuration_changed_with_the_same_size_and_mtime_is_a_miss(root: Path) -> None:
    build_index(root)
    config = root / "shipyard.yaml"
    before = config.stat()
    config.write_text(CONFIG.replace("packages: [packages/*]", "packages: [packages/a]"
                                     + " " * (len("packages/*") - len("packages/a"))))
    os.utime(config, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (config.stat().st_size, config.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert runs.indexed_setup() is None
    assert sorted(session.open_workspace(load(config)).graph.packages) == ["a"]


def test_a_manifest_changed_while_the_full_load_read_it_is_not_indexed(root: Path) -> None:
    config = load(root / "shipyard.yaml")
    before = index.signatures(root, config.path.resolve(), ["packages/*"])
    graph = fresh_graph(root)
    package(root, "c", {"a": "*"})  # after the signatures were taken: the graph may describe either version
    assert not index.save(root, config.path.resolve(), ["packages/*"], ["package-lock.json"], "shipyard.yaml", {},
                          graph, None, (False, "", 0), before, racy_seconds=0.0)
    assert not index.index_file(root).exists()
    assert index.save(root, config.path.resolve(), ["packages/*"], ["package-lock.json"], "shipyard.yaml", {},
                      fresh_graph(root), None, (False, "", 0),
                      index.signatures(root, config.path.resolve(), ["packages/*"]), racy_seconds=0.0)
    assert indexed_graph(root) == fresh_graph(root)


def test_damaged_tasks_cost_a_run_its_shortcut_but_not_affected(root: Path) -> None:
    build_index(root)
    core, _ = index.read_raw(root)
    index.write_raw(root, core, "{not json")
    assert indexed_graph(root) == fresh_graph(root)  # the core is intact
    assert runs.indexed_setup() is None  # and `monorepo.run` loads the configuration
