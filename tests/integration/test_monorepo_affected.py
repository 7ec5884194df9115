"""`monorepo.affected` on generated git repositories: real git, real manifests, real merge bases."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from monorepo_repo import commit_change, git, make_repo, write

from shipyard.config import load
from shipyard.errors import ShipyardError
from shipyard.monorepo import session
from shipyard.monorepo.changes import changes_since
from shipyard.run import LocalRunner

INVOKE = str(Path(sys.executable).parent / "invoke")
PROJECT = str(Path(__file__).resolve().parents[2])


def affected(root: Path, base: str | None = "main", head: str | None = None) -> list[str]:
    result = session.find_affected(load(root / "shipyard.yaml"), LocalRunner(), base, head)
    return sorted(result.packages)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = make_repo(tmp_path)
    git(root, "checkout", "-qb", "feature")
    return root


def test_leaf_change_affects_only_the_leaf(repo: Path) -> None:
    commit_change(repo, "apps/web/src/page.txt", "new page\n")
    assert affected(repo) == ["@demo/web"]


def test_shared_change_affects_its_dependents(repo: Path) -> None:
    commit_change(repo, "packages/shared/src/a.txt", "changed\n")
    assert affected(repo) == ["@demo/shared", "@demo/web"]
    commit_change(repo, "packages/models/src/m.txt", "changed\n")
    assert affected(repo) == ["@demo/shared", "@demo/web", "demo-api", "demo-models"]


def test_lockfile_change_affects_everything(repo: Path) -> None:
    commit_change(repo, "package-lock.json", '{"lockfileVersion": 3, "packages": {}}\n')
    result = session.find_affected(load(repo / "shipyard.yaml"), LocalRunner(), "main")
    assert len(result.packages) == 4 and result.global_change == "package-lock.json"
    assert result.reasons["demo-api"] == "global input package-lock.json changed"


def test_config_change_affects_everything(repo: Path) -> None:
    commit_change(repo, "shipyard.yaml", (repo / "shipyard.yaml").read_text() + "# comment\n")
    assert len(affected(repo)) == 4


def test_change_under_no_package_affects_none(repo: Path) -> None:
    commit_change(repo, "README.md", "more docs\n")
    commit_change(repo, "docs/guide.md", "a guide\n")
    assert affected(repo) == []


def test_merge_base_not_the_tip_of_main(repo: Path) -> None:
    """Changes made on main after the branch point are not the branch's changes."""
    commit_change(repo, "apps/web/src/page.txt", "feature work\n")
    git(repo, "checkout", "-q", "main")
    commit_change(repo, "apps/api/src/main.txt", "main moved on\n")
    git(repo, "checkout", "-q", "feature")
    assert affected(repo) == ["@demo/web"]


def test_working_tree_counts_unless_head_is_given(repo: Path) -> None:
    commit_change(repo, "apps/web/src/page.txt", "committed\n")
    write(repo, "packages/models/src/new.txt", "untracked\n")
    assert affected(repo) == ["@demo/web", "demo-api", "demo-models"]
    assert affected(repo, head="HEAD") == ["@demo/web"]
    assert affected(repo, base="HEAD~1", head="HEAD") == ["@demo/web"]


def test_default_base_falls_back_to_main_and_prefers_origin_main(repo: Path, tmp_path: Path) -> None:
    commit_change(repo, "apps/web/src/page.txt", "x\n")
    assert affected(repo, base=None) == ["@demo/web"]  # no origin: main
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--branch", "feature", str(repo), str(clone)], check=True)
    git(clone, "config", "user.email", "t@example.com")
    git(clone, "config", "user.name", "T")
    git(clone, "branch", "-q", "-f", "main", "feature")  # a stale local main: origin/main must win
    commit_change(clone, "apps/api/src/main.txt", "y\n")
    result = session.find_affected(load(clone / "shipyard.yaml"), LocalRunner(), None)
    assert result.base == "origin/main"
    assert sorted(result.packages) == ["@demo/web", "demo-api"]


def test_unknown_ref_is_a_clear_error(repo: Path) -> None:
    with pytest.raises(ShipyardError, match=r"^unknown git ref 'origin/nope' \(next: fetch it"):
        affected(repo, base="origin/nope")


def test_option_like_ref_is_refused(repo: Path) -> None:
    with pytest.raises(ShipyardError, match=r"^'--output=x' is not a git ref"):
        affected(repo, base="--output=x")


def test_no_default_base_is_a_clear_error(repo: Path) -> None:
    git(repo, "branch", "-q", "-D", "main")
    with pytest.raises(ShipyardError, match="neither origin/main nor main exists"):
        affected(repo, base=None)


def test_shallow_clone_is_a_clear_message_not_everything(repo: Path, tmp_path: Path) -> None:
    commit_change(repo, "apps/web/src/page.txt", "feature\n")
    git(repo, "checkout", "-q", "main")
    commit_change(repo, "apps/api/src/main.txt", "main moved on\n")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-single-branch", "--branch", "feature",
                    f"file://{repo}", str(clone)], check=True)
    with pytest.raises(ShipyardError, match=r"shallow clone: the merge base of origin/main and HEAD is not in"
                                            r" its history \(next: `git fetch --unshallow`"):
        affected(clone, base=None)


def test_workspace_in_a_subdirectory_of_the_repository(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    root = make_repo(outer / "mono")
    (root / ".git").rename(outer / ".git")  # the git repository is one level up
    git(outer, "add", "-A")
    git(outer, "commit", "-qm", "move")
    git(outer, "checkout", "-qb", "feature")
    commit_change(outer, "mono/packages/shared/src/a.txt", "x\n")
    write(outer, "mono/apps/api/src/untracked.txt", "y\n")
    commit_change(outer, "other/apps/web/x.txt", "not in the workspace\n")
    assert affected(root) == ["@demo/shared", "@demo/web", "demo-api"]


def invoke(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([INVOKE, "-r", PROJECT, *args], cwd=root, capture_output=True, text=True, timeout=60)


def test_cli_json_and_cycle_error(repo: Path) -> None:
    commit_change(repo, "packages/shared/src/a.txt", "changed\n")
    proc = invoke(repo, "monorepo.affected", "--base", "main", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [p["name"] for p in data["packages"]] == ["@demo/shared", "@demo/web"]
    assert data["packages"][1]["reason"] == "depends on @demo/shared"
    assert data["changed_files"] == ["packages/shared/src/a.txt"]
    # a cycle through a manifest edge and a config edge is reported with its path, one line, no traceback
    config = (repo / "shipyard.yaml").read_text().replace(
        "  global_inputs:", "  overrides:\n    packages/shared: {depends_on: ['@demo/web']}\n  global_inputs:")
    write(repo, "shipyard.yaml", config)
    proc = invoke(repo, "monorepo.affected", "--base", "main")
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("error: package dependency cycle: @demo/web -> @demo/shared -> @demo/web"
                                   " (next: remove one of these dependencies (a manifest or workspace.overrides))")
    assert "Traceback" not in proc.stderr + proc.stdout


def test_indexed_affected_is_the_full_answer_and_follows_manifest_edits(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from shipyard.monorepo import index

    monkeypatch.setattr(index, "RACY_SECONDS", 0.0)
    monkeypatch.chdir(repo)
    commit_change(repo, "packages/shared/src/a.txt", "v2\n")
    assert session.find_affected_indexed(LocalRunner(), "main") is None  # no index yet
    full = session.find_affected(load(repo / "shipyard.yaml"), LocalRunner(), "main")  # writes it
    quick = session.find_affected_indexed(LocalRunner(), "main")
    assert quick is not None and quick.to_json() == full.to_json()
    assert quick.merge_base == git(repo, "merge-base", "main", "HEAD").strip()
    # an uncommitted manifest edit: the index misses, and the full answer includes the change
    web = json.loads((repo / "apps/web/package.json").read_text())
    web["dependencies"] = {}
    (repo / "apps/web/package.json").write_text(json.dumps(web))
    assert session.find_affected_indexed(LocalRunner(), "main") is None
    again = session.find_affected(load(repo / "shipyard.yaml"), LocalRunner(), "main")
    quick = session.find_affected_indexed(LocalRunner(), "main")
    assert quick is not None and quick.to_json() == again.to_json()
    assert "apps/web/package.json" in quick.changed_files
    assert ".shipyard/index/workspace.index" not in quick.changed_files  # the index ignores itself


TASKS_PY = "import sys\n\nfrom shipyard.tasks import namespace\n\nns = namespace(sys.argv[1:])\n"


def rename_shared(root: Path, name: str) -> None:
    manifest = root / "packages/shared/package.json"
    before = manifest.stat()
    manifest.write_text(manifest.read_text().replace('"@demo/shared"', json.dumps(name)))
    if len(name) == len("@demo/shared"):  # the same size, and the mtime put back: only ctime tells
        os.utime(manifest, ns=(before.st_atime_ns, before.st_mtime_ns))
        after = manifest.stat()
        assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


STALE: dict[str, Callable[[Path], None]] = {
    "manifest edited": lambda root: rename_shared(root, "@demo/shared-v2"),
    "same size and mtime": lambda root: rename_shared(root, "@demo/sharex"),  # web's dependency is gone
    "package added": lambda root: write(root, "packages/extra/package.json",
                                        json.dumps({"name": "@demo/extra", "dependencies": {"@demo/shared": "*"}})),
    "package removed": lambda root: shutil.rmtree(root / "apps/web"),
}


@pytest.mark.parametrize("stale", STALE)
def test_a_stale_index_never_gives_a_wrong_answer(repo: Path, monkeypatch: pytest.MonkeyPatch, stale: str) -> None:
    from shipyard.monorepo import affected as affected_mod
    from shipyard.monorepo import index

    monkeypatch.setattr(index, "RACY_SECONDS", 0.0)
    monkeypatch.chdir(repo)
    write(repo, "tasks.py", TASKS_PY)  # as a user's repository has it (and git ignores it here)
    write(repo, ".git/info/exclude", "tasks.py\n")
    commit_change(repo, "packages/shared/src/a.txt", "v2\n")
    session.find_affected(load(repo / "shipyard.yaml"), LocalRunner(), "main")  # writes the index
    snap = index.load(repo, (repo / "shipyard.yaml").resolve())
    assert snap is not None
    STALE[stale](repo)

    assert session.find_affected_indexed(LocalRunner(), "main") is None
    # the command as a user types it (its git calls start before Invoke has parsed the line)
    proc = subprocess.run([INVOKE, "monorepo.affected", "--base", "main", "--json"], cwd=repo, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    full = session.find_affected(load(repo / "shipyard.yaml"), LocalRunner(), "main").to_json()
    assert json.loads(proc.stdout) == full
    # the check can fail: what the stale index would have said differs from the answer
    changes = changes_since(LocalRunner(), repo, "main")
    wrong = affected_mod.compute(snap.graph, changes.files, snap.global_inputs, (snap.config_rel,))
    assert [p["name"] for p in full["packages"]] != list(wrong.packages)


def test_git_starts_before_invoke_parses_only_for_a_plain_command_line(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from shipyard.tasks import monorepo as tasks_monorepo

    monkeypatch.chdir(repo)
    monkeypatch.delenv("SHIPYARD_CONFIG", raising=False)
    monkeypatch.setattr(tasks_monorepo, "_EARLY", {})
    commit_change(repo, "packages/shared/src/a.txt", "v2\n")
    config = str((repo / "shipyard.yaml").resolve())
    for argv in (["monorepo.affected", "--help"], ["monorepo.graph"], ["monorepo.affected", "--base"],
                 ["monorepo.affected", "--base", "main", "docker.build"], ["-e", "monorepo.affected"]):
        tasks_monorepo.start_early(argv)
        assert tasks_monorepo._EARLY == {}, argv
    tasks_monorepo.start_early(["monorepo.affected", "--base=main", "--json"])
    tasks_monorepo.start_early(["monorepo.affected", "--head", "HEAD", "--base", "main"])
    assert set(tasks_monorepo._EARLY) == {(config, "main", None), (config, "main", "HEAD")}
    assert tasks_monorepo._EARLY[(config, "main", None)]() == changes_since(LocalRunner(), repo, "main")


def test_cli_graph_views_and_plain_affected(repo: Path) -> None:
    """The views a person reads: the graph as text, as Mermaid with the affected packages coloured, as JSON, and the
    affected set in plain text, each naming the edge that makes @demo/web depend on @demo/shared."""
    commit_change(repo, "packages/shared/src/a.txt", "changed\n")
    text = invoke(repo, "monorepo.graph")
    assert text.returncode == 0, text.stderr
    assert "@demo/web  (apps/web, node)\n  -> @demo/shared  [package.json]\n" in text.stdout
    assert "@demo/shared  (packages/shared, node)\n  <- used by @demo/web\n" in text.stdout
    assert text.stdout.rstrip().endswith("4 package(s), 2 dependency edge(s)")
    mermaid = invoke(repo, "monorepo.graph", "--mermaid", "--highlight-affected", "--base", "main")
    assert mermaid.returncode == 0, mermaid.stderr
    lines = mermaid.stdout.splitlines()
    ids = {line.split('["')[1].split("<br/>")[0]: line.split("[")[0].strip() for line in lines if '["' in line}
    assert f"  {ids['@demo/web']} --> {ids['@demo/shared']}" in lines
    assert lines[-1] == f"  class {ids['@demo/shared']},{ids['@demo/web']} affected"
    as_json = invoke(repo, "monorepo.graph", "--json")
    assert as_json.returncode == 0, as_json.stderr
    deps = {p["name"]: p["depends_on"] for p in json.loads(as_json.stdout)["packages"]}
    assert deps == {"@demo/shared": [], "@demo/web": ["@demo/shared"], "demo-api": ["demo-models"],
                    "demo-models": []}
    plain = invoke(repo, "monorepo.affected", "--base", "main")
    assert plain.returncode == 0, plain.stderr
    rows = plain.stdout.splitlines()
    assert rows[1] == "2 of 4 package(s) affected:"
    assert rows[2].split() == ["@demo/shared", "packages/shared", "changed:", "packages/shared/src/a.txt"]
    assert rows[3].split() == ["@demo/web", "apps/web", "depends", "on", "@demo/shared"]
