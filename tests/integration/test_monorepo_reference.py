"""The reference monorepo (apps/api, apps/web, packages/api-client): `monorepo.build` twice, the second a
full cache hit that restores Next.js's output byte for byte.

Runs on a copy (the working tree's apps/web/.next may belong to a running `next dev`), with the
repository's installed node_modules hard-linked in. Slow: the first build is a real `next build`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from monorepo_repo import git

from tools import need_tool

PROJECT = Path(__file__).resolve().parents[2]
INVOKE = str(Path(sys.executable).parent / "invoke")
PARTS = ("apps/", "packages/", "package.json", "package-lock.json", "shipyard.yaml", ".gitignore")

pytestmark = pytest.mark.slow


def copy_reference(dest: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=PROJECT, capture_output=True, text=True, check=True).stdout.split("\0")
    for rel in (p for p in listed if p.startswith(PARTS) and (PROJECT / p).is_file()):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT / rel, dest / rel)
    subprocess.run(["cp", "-al", str(PROJECT / "node_modules"), str(dest / "node_modules")], check=True)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", ".")
    git(dest, "-c", "user.email=t@example.com", "-c", "user.name=T", "commit", "-qm", "reference")
    return dest


def invoke(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SHIPYARD_CACHE_DIR"}
    return subprocess.run([INVOKE, "-r", str(PROJECT), *args], cwd=root, capture_output=True, text=True,
                          timeout=900, env=env)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (PROJECT / "apps/web/package.json").is_file() or not (PROJECT / "apps/api/pyproject.toml").is_file():
        pytest.skip("the reference apps (apps/web, apps/api) are not in this checkout")
    need_tool("node")
    return copy_reference(tmp_path_factory.mktemp("reference"))


def test_build_twice_second_is_a_full_cache_hit(reference: Path) -> None:
    first = invoke(reference, "monorepo.build", "--logs", "errors")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "@shipyard/web#build" in first.stdout and "shipyard-api#build" in first.stdout
    server = reference / "apps/web/.next/standalone/apps/web/server.js"
    assert server.is_file()
    built = {p: p.read_bytes() for p in (server, reference / "apps/web/.next/BUILD_ID")}

    plan = json.loads(invoke(reference, "monorepo.build", "--dry", "--json").stdout)
    assert {t["id"]: t["cache"] for t in plan["tasks"]} == {"shipyard-api#build": "hit", "@shipyard/web#build": "hit"}
    web = next(t for t in plan["tasks"] if t["id"] == "@shipyard/web#build")
    assert web["sources"] == ["@shipyard/api-client"]  # the TypeScript client keys web's build

    shutil.rmtree(reference / "apps/web/.next")
    second = invoke(reference, "monorepo.build")
    assert second.returncode == 0, second.stderr
    assert "full cache hit" in second.stdout
    assert "Compiled successfully" in second.stdout  # the replayed log of the first build
    assert {p: p.read_bytes() for p in built} == built
    assert not (reference / "apps/web/.next/cache").exists()  # the cache is not an output: never restored


def test_changing_the_shared_client_rebuilds_web_only(reference: Path) -> None:
    client = reference / "packages/api-client/src/index.ts"
    client.write_text(client.read_text() + "\n// a change in the shared package\n")
    proc = invoke(reference, "monorepo.build", "--dry", "--json")
    tasks = {t["id"]: t["cache"] for t in json.loads(proc.stdout)["tasks"]}
    assert tasks == {"shipyard-api#build": "hit", "@shipyard/web#build": "miss"}
    affected = json.loads(invoke(reference, "monorepo.affected", "--base", "main", "--json").stdout)
    assert [p["name"] for p in affected["packages"]] == ["@shipyard/api-client", "@shipyard/web"]
