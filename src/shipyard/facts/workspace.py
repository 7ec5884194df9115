"""Pure parsers for package manifests (package.json, pyproject.toml) and git's file listings.

A manifest tells the graph two things: the package's name and which local packages it depends on,
either by name (npm workspaces, uv `workspace = true`) or by a relative path (`file:../x`,
uv/Poetry `path = "../x"`, PEP 508 `name @ file:../x`).
"""

from __future__ import annotations

import json
import posixpath
import re
import tomllib
from dataclasses import dataclass
from typing import Any

NPM_DEP_KINDS = ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies")
PEP508_URL = re.compile(r"@\s*(file:\S+)")


class ManifestError(ValueError):
    """A manifest that cannot be parsed; the message says where."""


@dataclass(frozen=True)
class Manifest:
    language: str
    name: str | None
    #: names of declared dependencies that link to a workspace member when one has that name
    workspace_deps: tuple[str, ...] = ()
    #: paths (relative to the manifest's directory) of local packages it depends on
    path_deps: tuple[str, ...] = ()
    scripts: tuple[str, ...] = ()


def normalize_python_name(name: str) -> str:
    """PEP 503 normalisation: `Shared_Models` and `shared-models` are one project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _file_url_path(url: str) -> str:
    """`file:../x`, `file:///${PROJECT_ROOT}/../x` (PDM) -> a path relative to the manifest's directory."""
    path = url.removeprefix("file:")
    if "${PROJECT_ROOT}" in path:
        path = "." + path.split("${PROJECT_ROOT}", 1)[1]
    elif path.startswith("//"):
        path = path[2:]
    return posixpath.normpath(path)


def parse_package_json(text: str, where: str = "package.json") -> Manifest:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{where}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{where}:1: must be a JSON object")
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise ManifestError(f"{where}: 'name' must be a string")
    names: list[str] = []
    paths: list[str] = []
    for kind in NPM_DEP_KINDS:
        deps = data.get(kind) or {}
        if not isinstance(deps, dict):
            raise ManifestError(f"{where}: '{kind}' must be an object of name: version")
        for dep, spec in deps.items():
            spec = str(spec)
            if spec.startswith(("file:", "link:")):
                paths.append(spec.split(":", 1)[1])
            else:
                names.append(dep)
    scripts = data.get("scripts") or {}
    return Manifest(language="node", name=name, workspace_deps=tuple(sorted(set(names))),
                    path_deps=tuple(sorted(set(paths))),
                    scripts=tuple(sorted(scripts)) if isinstance(scripts, dict) else ())


def _requirement_strings(data: dict[str, Any]) -> list[str]:
    project = data.get("project") or {}
    out = [str(r) for r in project.get("dependencies") or []]
    for group in (project.get("optional-dependencies") or {}).values():
        out += [str(r) for r in group or []]
    for group in (data.get("dependency-groups") or {}).values():
        out += [r for r in group or [] if isinstance(r, str)]
    return out


def _poetry_tables(data: dict[str, Any]) -> list[dict[str, Any]]:
    poetry = (data.get("tool") or {}).get("poetry") or {}
    tables = [poetry.get("dependencies") or {}, poetry.get("dev-dependencies") or {}]
    tables += [(group or {}).get("dependencies") or {} for group in (poetry.get("group") or {}).values()]
    return [t for t in tables if isinstance(t, dict)]


def parse_pyproject(text: str, where: str = "pyproject.toml") -> Manifest:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{where}: invalid TOML ({exc})") from None
    project = data.get("project") or {}
    poetry = (data.get("tool") or {}).get("poetry") or {}
    name = project.get("name") or poetry.get("name")
    names: list[str] = []
    paths: list[str] = []
    for requirement in _requirement_strings(data):
        url = PEP508_URL.search(requirement)
        if url:
            paths.append(_file_url_path(url.group(1)))
    sources = ((data.get("tool") or {}).get("uv") or {}).get("sources") or {}
    for dep, source in sources.items():
        for item in source if isinstance(source, list) else [source]:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                paths.append(item["path"])
            elif isinstance(item, dict) and item.get("workspace") is True:
                names.append(normalize_python_name(dep))
    for table in _poetry_tables(data):
        for spec in table.values():
            if isinstance(spec, dict) and isinstance(spec.get("path"), str):
                paths.append(spec["path"])
    scripts = project.get("scripts") or {}
    return Manifest(language="python", name=normalize_python_name(name) if isinstance(name, str) else None,
                    workspace_deps=tuple(sorted(set(names))), path_deps=tuple(sorted(set(paths))),
                    scripts=tuple(sorted(scripts)) if isinstance(scripts, dict) else ())


def parse_nul_list(output: str) -> list[str]:
    """Paths from a `-z` git listing (NUL-separated, no quoting)."""
    return [p for p in output.split("\0") if p]


def parse_bool(output: str) -> bool:
    return output.strip() == "true"
