"""Generated monorepos in real git repositories, for the monorepo tests.

Layout: packages/shared (node), apps/web (node, depends on shared through its package.json),
apps/api (python, depends on packages/models through a uv path source), packages/models (python).
Every build command leaves a side effect (a line appended to <root>/ran.log) and writes an output.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


CONFIG = """\
project: demo
registry: {address: 127.0.0.1:5000, namespace: demo}
services:
  web: {port: 3000, context: ., dockerfile: docker/web.Dockerfile}
  api: {port: 8000, context: apps/api}
workspace:
  packages: [apps/*, packages/*]
  global_inputs: [package-lock.json]
  defaults:
    node:
      build:
        command: echo "$(basename $PWD)" >> ../../ran.log && mkdir -p dist && cat src/*.txt > dist/out.txt
        inputs: [src/**, package.json]
        outputs: [dist/**]
        env: [DEMO_FLAVOUR]
        depends_on: [^build]
      test:
        command: echo "test-$(basename $PWD)" >> ../../ran.log
        depends_on: [build]
    python:
      build:
        command: echo "$(basename $PWD)" >> ../../ran.log && mkdir -p dist && cat src/*.txt > dist/out.txt
        outputs: [dist/**]
        depends_on: [^build]
"""


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_repo(root: Path, config: str = CONFIG) -> Path:
    write(root, "shipyard.yaml", config)
    write(root, ".gitignore", "dist/\n.shipyard/\nran.log\nnode_modules/\n")
    write(root, "package.json", json.dumps({"name": "root", "private": True,
                                            "workspaces": ["apps/*", "packages/*"]}, indent=2))
    write(root, "package-lock.json", '{"lockfileVersion": 3}\n')
    write(root, "README.md", "demo\n")
    write(root, "packages/shared/package.json", json.dumps({"name": "@demo/shared", "version": "1.0.0"}))
    write(root, "packages/shared/src/a.txt", "shared-a\n")
    write(root, "apps/web/package.json", json.dumps(
        {"name": "@demo/web", "version": "1.0.0", "dependencies": {"@demo/shared": "*", "react": "^18"}}))
    write(root, "apps/web/src/page.txt", "web-page\n")
    write(root, "packages/models/pyproject.toml", textwrap.dedent("""\
        [project]
        name = "demo_models"
        version = "0.1.0"
        """))
    write(root, "packages/models/src/m.txt", "models\n")
    write(root, "apps/api/pyproject.toml", textwrap.dedent("""\
        [project]
        name = "demo-api"
        version = "0.1.0"
        dependencies = ["fastapi", "demo-models"]

        [tool.uv.sources]
        demo-models = { path = "../../packages/models", editable = true }
        """))
    write(root, "apps/api/src/main.txt", "api\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "T")
    git(root, "add", ".")
    git(root, "commit", "-qm", "initial")
    return root


def commit_change(root: Path, rel: str, text: str, message: str = "change") -> None:
    write(root, rel, text)
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def ran(root: Path) -> list[str]:
    log = root / "ran.log"
    return log.read_text().split() if log.exists() else []
