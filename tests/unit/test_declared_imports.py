"""Every third-party module that src/shipyard imports is declared in pyproject.toml (in `dependencies` or an extra
other than `dev`), and every runtime dependency is imported somewhere: a library is either used or not declared.

Import names are mapped to distribution names by the installed packages' own metadata (yaml -> PyYAML,
dotenv -> python-dotenv, hcl2 -> python-hcl2); a module that no installed distribution provides is undeclared.
"""

from __future__ import annotations

import ast
import functools
import sys
import tomllib
from collections.abc import Mapping
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "shipyard"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
NOT_FOR_THE_PACKAGE = {"dev"}  # extras of tools for working on Shipyard, not for running it


def names(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def declared(project: Mapping[str, object]) -> set[str]:
    extras = project.get("optional-dependencies", {})
    assert isinstance(extras, dict)
    runtime = project.get("dependencies", [])
    assert isinstance(runtime, list)
    return names(runtime).union(*(names(reqs) for extra, reqs in extras.items() if extra not in NOT_FOR_THE_PACKAGE))


def third_party(source: str) -> set[str]:
    """Top-level names of the absolute imports of one module, without the standard library and Shipyard."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name not in {"__future__", "shipyard"}}


@functools.cache
def installed() -> Mapping[str, list[str]]:
    return packages_distributions()


def distributions(module: str) -> set[str]:
    return {canonicalize_name(d) for d in installed().get(module, [])}


def undeclared(sources: Mapping[str, str], allowed: set[str]) -> list[str]:
    problems = []
    for path, source in sorted(sources.items()):
        for module in sorted(third_party(source)):
            provided = distributions(module)
            if not provided & allowed:
                what = ", ".join(sorted(provided)) or "no installed distribution"
                problems.append(f"{path}: imports {module} ({what}), not declared in pyproject.toml")
    return problems


def unused(runtime: set[str], sources: Mapping[str, str]) -> list[str]:
    used = {d for source in sources.values() for module in third_party(source) for d in distributions(module)}
    return sorted(runtime - used)


def package_sources() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_third_party_import_is_declared() -> None:
    assert undeclared(package_sources(), declared(PROJECT)) == []


def test_every_runtime_dependency_is_imported() -> None:
    assert unused(names(PROJECT["dependencies"]), package_sources()) == []


def test_the_check_fails_on_an_undeclared_import() -> None:
    fixture = {"src/shipyard/fixture.py": (
        "import os\nimport yaml\nfrom dotenv.parser import parse_stream\nfrom . import sibling\n"
        "from shipyard.errors import ShipyardError\n"
        "import pytest\n"                    # installed, but only in the dev extra
        "from nox.sessions import Session\n"  # likewise, as a from-import of a submodule
        "def lazy():\n    import not_installed_anywhere\n")}
    assert undeclared(fixture, declared(PROJECT)) == [
        "src/shipyard/fixture.py: imports not_installed_anywhere (no installed distribution), not declared in "
        "pyproject.toml",
        "src/shipyard/fixture.py: imports nox (nox), not declared in pyproject.toml",
        "src/shipyard/fixture.py: imports pytest (pytest), not declared in pyproject.toml",
    ]


def test_the_check_fails_on_a_declared_library_imported_nowhere() -> None:
    assert unused({"pyyaml", "python-on-whales"}, {"a.py": "import yaml\n"}) == ["python-on-whales"]
