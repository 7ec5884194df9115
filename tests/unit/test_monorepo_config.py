"""The `workspace:` section of shipyard.yaml, and mapping services to packages for `docker.build --affected`."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import parse
from shipyard.errors import ConfigError
from shipyard.facts.workspace import Manifest
from shipyard.monorepo.affected import compute
from shipyard.monorepo.graph import WorkspaceError, build_graph
from shipyard.monorepo.services import affected_services

BASE = """\
project: demo
registry: {address: 127.0.0.1:5000, namespace: demo}
services:
  api: {port: 8000, context: apps/api}
  web: {port: 3000, context: .}
  worker: {port: 9000, package: api}
"""

WORKSPACE = """\
workspace:
  packages: [apps/*, packages/*]
  global_inputs: [package-lock.json]
  defaults:
    node:
      build:
        command: npm run build
        outputs: [dist/**]
        env: [NEXT_PUBLIC_*]
        depends_on: [^build]
  overrides:
    apps/web:
      depends_on: [api]
      tasks:
        build: {outputs: [.next/**, "!.next/cache/**"]}
        lint: null
  cache: {dir: .cache/shipyard, max_size_mb: 100}
"""


def test_valid_workspace_section() -> None:
    ws = parse(BASE + WORKSPACE).project.workspace
    assert ws.packages == ["apps/*", "packages/*"]
    assert ws.defaults["node"]["build"].depends_on == ["^build"]
    web = ws.overrides["apps/web"]
    assert web.depends_on == ["api"] and web.tasks["lint"] is None
    merged = ws.defaults["node"]["build"].merged(web.tasks["build"])  # type: ignore[arg-type]
    assert merged.command == "npm run build" and merged.outputs == [".next/**", "!.next/cache/**"]
    assert merged.env == ["NEXT_PUBLIC_*"]
    assert ws.cache.max_size_mb == 100


def test_defaults_when_absent() -> None:
    ws = parse(BASE).project.workspace
    assert ws.packages == ["apps/*", "packages/*"] and "package-lock.json" in ws.global_inputs
    assert ws.cache.dir == ".shipyard/cache" and ws.cache.enabled


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("  packages: [apps/*, packages/*]", "  pakages: [apps/*]",
     "shipyard.yaml:8 workspace.pakages: unknown key; did you mean 'packages'?"),
    ("    node:", "    rust:",
     "shipyard.yaml:10 workspace.defaults: unknown language 'rust' (languages: node, python)"),
    ("        command: npm run build", "        command: [npm, run]",
     "shipyard.yaml:13 workspace.defaults.node.build.command: must be a string"),
    ("        outputs: [dist/**]", "        outputs: [../dist/**]",
     "shipyard.yaml:14 workspace.defaults.node.build.outputs: '../dist/**' must be a relative glob inside the"
     " package"),
    ("        env: [NEXT_PUBLIC_*]", "        env: [NEXT-PUBLIC]",
     "shipyard.yaml:15 workspace.defaults.node.build.env: 'NEXT-PUBLIC' is not an environment variable name"),
    ("        depends_on: [^build]", "        depends_on: [^^build]",
     "shipyard.yaml:16 workspace.defaults.node.build.depends_on: '^^build' must be 'task', '^task'"),
    ("        lint: null", "        9lint: null",
     "shipyard.yaml:20 workspace.overrides.apps/web.tasks: task name '9lint' must start with a letter"),
    ("max_size_mb: 100", "max_size_mb: 0", "shipyard.yaml:23 workspace.cache.max_size_mb: must be >= 1"),
    ("        build: {outputs", "        build: {ouputs",
     "shipyard.yaml:21 workspace.overrides.apps/web.tasks.build.ouputs: unknown key; did you mean 'outputs'?"),
])
def test_workspace_errors_name_file_line_and_key(old: str, new: str, expected: str) -> None:
    assert old in WORKSPACE
    with pytest.raises(ConfigError) as info:
        parse(BASE + WORKSPACE.replace(old, new, 1))
    assert info.value.problems[0].startswith(expected), info.value.problems


def graph() -> object:
    return build_graph({
        "apps/api": Manifest("python", "acme-api", (), ("../../packages/models",)),
        "apps/web": Manifest("node", "@acme/web", ("@acme/client",)),
        "packages/client": Manifest("node", "@acme/client"),
        "packages/models": Manifest("python", "models"),
    })


@pytest.mark.parametrize(("changed", "expected"), [
    (["apps/web/page.tsx"], ["web"]),
    (["packages/client/index.ts"], ["web"]),
    (["packages/models/m.py"], ["api", "worker"]),
    (["apps/api/main.py"], ["api", "worker"]),
    (["package-lock.json"], ["api", "web", "worker"]),
    (["README.md"], []),
])
def test_affected_services(changed: list[str], expected: list[str]) -> None:
    config = parse(BASE + "  worker2: {port: 9001, package: apps/api}\n", path=Path("/x/shipyard.yaml"))
    g = graph()
    result = compute(g, changed, ["package-lock.json"])  # type: ignore[arg-type]
    names = affected_services(config, result)
    assert names == expected + (["worker2"] if "api" in expected else [])


def test_a_changed_dockerfile_rebuilds_its_image() -> None:
    web = "web: {port: 3000, dockerfile: docker/web.Dockerfile}"
    config = parse(BASE.replace("web: {port: 3000, context: .}", web))
    g = graph()
    assert affected_services(config, compute(g, ["docker/web.Dockerfile"], [])) == ["web"]  # type: ignore[arg-type]
    assert affected_services(config, compute(g, ["docker/other.Dockerfile"], [])) == []  # type: ignore[arg-type]


def test_service_without_a_package_counts_as_affected_and_unknown_package_is_an_error() -> None:
    config = parse(BASE + "  proxy: {port: 80, context: docker/proxy}\n")
    g = graph()
    assert affected_services(config, compute(g, [], [])) == ["proxy"]  # type: ignore[arg-type]
    bad = parse(BASE.replace("package: api", "package: nope"))
    with pytest.raises(WorkspaceError, match=r"services.worker.package: no package 'nope'"):
        affected_services(bad, compute(g, [], []))  # type: ignore[arg-type]
