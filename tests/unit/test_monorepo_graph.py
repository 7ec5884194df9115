"""Pure parts of the monorepo: globs, manifest parsing, the package graph, the affected set, the task graph."""

from __future__ import annotations

import json

import pytest

from shipyard.config.workspace import TaskSpec, WorkspaceConfig
from shipyard.facts.workspace import Manifest, ManifestError, parse_package_json, parse_pyproject
from shipyard.monorepo.affected import compute, owners
from shipyard.monorepo.globs import GlobSet, compile_glob, static_prefix
from shipyard.monorepo.graph import WorkspaceError, build_graph, find_cycle, topological
from shipyard.monorepo.taskgraph import all_tasks, plan


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    ("*.json", "package.json", True),
    ("*.json", "a/package.json", False),
    ("src/**", "src/a/b.ts", True),
    ("src/**", "src", True),
    ("src/**", "srcx/a", False),
    ("**/*.py", "a.py", True),
    ("**/*.py", "a/b/c.py", True),
    ("src/**/*.ts", "src/x.ts", True),
    ("src/**/*.ts", "src/a/b/x.ts", True),
    ("src/**/*.ts", "src/a/b/x.tsx", False),
    ("dist/", "dist/x/y", True),
    ("file?.txt", "file1.txt", True),
    ("file?.txt", "file/.txt", False),
    ("[!a]x", "bx", True),
    ("[!a]x", "ax", False),
    ("a.b", "aXb", False),
])
def test_globs(pattern: str, path: str, expected: bool) -> None:
    assert bool(compile_glob(pattern).match(path)) is expected


def test_globset_negation_and_static_prefix() -> None:
    outputs = GlobSet([".next/**", "!.next/cache/**"])
    assert outputs.match(".next/server/app.js")
    assert not outputs.match(".next/cache/webpack/x.pack")
    assert not GlobSet([])
    assert static_prefix("dist/**/*.js") == "dist"
    assert static_prefix(".next/standalone/**") == ".next/standalone"
    assert static_prefix("build.txt") == ""
    assert static_prefix("out/build.txt") == "out"


def test_package_json_workspace_and_path_deps() -> None:
    text = json.dumps({"name": "@acme/web", "scripts": {"build": "next build", "lint": "eslint ."},
                       "dependencies": {"@acme/client": "*", "react": "^18", "local": "file:../local"},
                       "devDependencies": {"@acme/config": "workspace:*"}})
    manifest = parse_package_json(text)
    assert manifest == Manifest("node", "@acme/web", ("@acme/client", "@acme/config", "react"), ("../local",),
                                ("build", "lint"))


def test_package_json_errors_name_the_line() -> None:
    with pytest.raises(ManifestError, match=r"^apps/web/package.json:3: invalid JSON"):
        parse_package_json('{\n "name": "x",\n }', "apps/web/package.json")
    with pytest.raises(ManifestError, match="'dependencies' must be an object"):
        parse_package_json('{"dependencies": ["a"]}')


def test_pyproject_path_dependencies_of_every_flavour() -> None:
    text = """
[project]
name = "Acme_API"
dependencies = ["fastapi>=0.110", "acme-pep508 @ file:///${PROJECT_ROOT}/../pep508"]

[tool.uv.sources]
acme-models = { path = "../../packages/models", editable = true }
acme-core = { workspace = true }

[tool.poetry.group.dev.dependencies]
acme-testing = { path = "../testing", develop = true }
"""
    manifest = parse_pyproject(text)
    assert manifest.name == "acme-api"
    assert manifest.workspace_deps == ("acme-core",)
    assert set(manifest.path_deps) == {"../../packages/models", "../testing", "../pep508"}
    with pytest.raises(ManifestError, match="invalid TOML"):
        parse_pyproject("[project\nname='x'")


def node(name: str, *deps: str, paths: tuple[str, ...] = ()) -> Manifest:
    return Manifest("node", name, tuple(deps), paths)


def py(name: str, *paths: str) -> Manifest:
    return Manifest("python", name, (), tuple(paths))


MANIFESTS = {
    "packages/ui": node("@a/ui"),
    "packages/client": node("@a/client", "@a/ui", "react"),
    "apps/web": node("@a/web", "@a/client", "next"),
    "apps/admin": node("@a/admin", "@a/ui"),
    "packages/models": py("models"),
    "apps/api": py("api", "../../packages/models"),
}


def test_graph_edges_from_manifests_and_config() -> None:
    graph = build_graph(MANIFESTS, {"apps/web": ["api"]})
    assert graph.deps["@a/web"] == ("@a/client", "api")
    assert graph.deps["api"] == ("models",)
    assert graph.deps["@a/client"] == ("@a/ui",)  # react is not a workspace package
    assert graph.why[("@a/web", "api")] == "shipyard.yaml"
    assert graph.why[("api", "models")] == "pyproject.toml"
    order = graph.order()
    assert order.index("@a/ui") < order.index("@a/client") < order.index("@a/web")
    assert order.index("api") < order.index("@a/web")
    assert graph.with_dependents(["@a/ui"]) == {"@a/ui", "@a/client", "@a/web", "@a/admin"}


def test_cycle_is_reported_with_its_path() -> None:
    cyclic = {**MANIFESTS, "packages/ui": node("@a/ui", "@a/web")}
    expected = r"^package dependency cycle: @a/ui -> @a/web -> @a/client -> @a/ui \(next: remove one"
    with pytest.raises(WorkspaceError, match=expected):
        build_graph(cyclic)
    assert find_cycle({"a": ["a"]}) == ["a", "a"]
    assert find_cycle({"a": ["b"], "b": []}) is None


def test_duplicate_names_and_unknown_explicit_dependency() -> None:
    with pytest.raises(WorkspaceError, match="two packages are named '@a/ui': packages/ui and packages/ui2"):
        build_graph({**MANIFESTS, "packages/ui2": node("@a/ui")})
    with pytest.raises(WorkspaceError, match=r"workspace.overrides.apps/web.depends_on: no package 'nope'"):
        build_graph(MANIFESTS, {"apps/web": ["nope"]})


@pytest.mark.parametrize(("changed", "expected"), [
    (["apps/web/src/page.tsx"], ["@a/web"]),  # a leaf: only itself
    (["packages/ui/src/button.tsx"], ["@a/ui", "@a/admin", "@a/client", "@a/web"]),  # shared: its dependents
    (["packages/models/m.py"], ["models", "api"]),
    (["package-lock.json"], "all"),  # a global input: everything
    (["shipyard.yaml"], "all"),
    (["README.md", "docs/x.md", "apps/README.md"], []),  # under no package: nothing
    ([], []),
])
def test_affected(changed: list[str], expected: list[str] | str) -> None:
    graph = build_graph(MANIFESTS)
    result = compute(graph, changed, ["package-lock.json"])
    if expected == "all":
        assert set(result.packages) == set(graph.packages)
        assert result.global_change == changed[0]
    else:
        assert sorted(result.packages) == sorted(expected)
    for name in result.packages:
        assert result.reasons[name]


def test_affected_reasons_and_nested_packages() -> None:
    graph = build_graph(MANIFESTS)
    result = compute(graph, ["packages/ui/a.ts", "packages/ui/b.ts"], [])
    assert result.reasons["@a/ui"] == "changed: packages/ui/a.ts (+1 more)"
    assert result.reasons["@a/client"] == "depends on @a/ui"
    assert owners(["apps/web/x/y.ts", "apps/webby/z"], {"apps/web": "web", "apps/web/x": "inner"}) == \
        {"inner": ["apps/web/x/y.ts"]}


def workspace_config(**defaults: dict[str, TaskSpec]) -> WorkspaceConfig:
    return WorkspaceConfig.model_validate({
        "defaults": {"node": {"build": {"command": "npm run build", "depends_on": ["^build"], "outputs": ["dist/**"]},
                              "test": {"command": "npm test", "depends_on": ["build"]}},
                     "python": {"test": {"command": "pytest"}}},
        "overrides": {"apps/web": {"tasks": {"build": {"outputs": [".next/**"]}, "e2e": {"command": "playwright"}}},
                      "@a/admin": {"tasks": {"test": None}}},
    })


def test_task_resolution_merges_defaults_and_overrides() -> None:
    graph = build_graph(MANIFESTS)
    tasks = all_tasks(workspace_config(), graph)
    web_build = tasks["@a/web"]["build"]
    assert web_build.command == "npm run build" and web_build.outputs == (".next/**",)
    assert web_build.depends_on == ("^build",)
    assert "e2e" in tasks["@a/web"] and "test" not in tasks["@a/admin"]
    assert set(tasks["api"]) == {"test"}


def test_task_graph_pulls_in_dependencies_only() -> None:
    graph = build_graph(MANIFESTS)
    tasks = all_tasks(workspace_config(), graph)
    tg = plan(graph, tasks, "test", ["@a/web"])
    assert tg.targets == ("@a/web#test",)
    assert set(tg.nodes) == {"@a/web#test", "@a/web#build", "@a/client#build", "@a/ui#build"}
    order = list(tg.nodes)
    assert order.index("@a/ui#build") < order.index("@a/client#build") < order.index("@a/web#build") \
        < order.index("@a/web#test")
    assert tg.nodes["@a/web#build"].deps == ("@a/client#build",)


def test_caret_dependency_looks_through_packages_without_the_task() -> None:
    manifests = {"a": node("a", "b"), "b": node("b", "c"), "c": node("c")}
    config = WorkspaceConfig.model_validate({
        "defaults": {"node": {"build": {"command": "x", "depends_on": ["^build"]}}},
        "overrides": {"b": {"tasks": {"build": None}}}})
    graph = build_graph(manifests)
    tg = plan(graph, all_tasks(config, graph), "build", ["a"])
    assert tg.nodes["a#build"].deps == ("c#build",)
    assert tg.nodes["a#build"].sources == ("b",)  # b's files still key a's build


def test_task_without_command_and_unknown_task_reference() -> None:
    graph = build_graph(MANIFESTS)
    config = WorkspaceConfig.model_validate({"overrides": {"api": {"tasks": {"build": {"outputs": ["x"]}}}}})
    with pytest.raises(WorkspaceError, match="task 'build' of package api has no command"):
        all_tasks(config, graph)
    config = WorkspaceConfig.model_validate(
        {"defaults": {"python": {"test": {"command": "pytest", "depends_on": ["models#nope"]}}}})
    with pytest.raises(WorkspaceError, match="api#test depends on 'models#nope', which does not exist"):
        plan(graph, all_tasks(config, graph), "test")


def test_order_is_the_standard_librarys_with_ties_broken_by_the_hint() -> None:
    deps = {"web": ("ui", "api"), "api": ("models",), "ui": (), "models": (), "docs": ()}
    assert topological(deps, ["web", "api", "ui", "models", "docs"]) == ["ui", "models", "api", "web", "docs"]
    assert topological(deps, ["docs", "models", "ui", "api", "web"]) == ["docs", "models", "ui", "api", "web"]
    graph = build_graph(MANIFESTS, {"apps/web": ["api"]})
    order = graph.order()
    assert order == graph.order() and graph.is_order(order)  # computed once, then the same list
    assert not graph.is_order(list(reversed(order))) and not graph.is_order(order[1:])


def test_a_task_cycle_is_reported_with_its_path() -> None:
    deps = {"a#build": ("a#test",), "a#test": ("a#lint",), "a#lint": ("a#build",), "b#build": ()}
    with pytest.raises(WorkspaceError, match=r"^dependency cycle: a#build -> a#test -> a#lint -> a#build \(next"):
        topological(deps, list(deps))
