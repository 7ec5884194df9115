"""`monorepo.run` on generated repositories: real subprocesses, the real cache directory, real git."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from monorepo_repo import CONFIG, commit_change, git, make_repo, ran, write
from rich.console import Console

from shipyard.config import load
from shipyard.monorepo import runs
from shipyard.monorepo.scheduler import Outcome
from shipyard.run import LocalRunner

INVOKE = str(Path(sys.executable).parent / "invoke")
PROJECT = str(Path(__file__).resolve().parents[2])
OUTPUTS = ["packages/shared/dist/out.txt", "apps/web/dist/out.txt", "packages/models/dist/out.txt",
           "apps/api/dist/out.txt"]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHIPYARD_CACHE_DIR", raising=False)
    monkeypatch.delenv("DEMO_FLAVOUR", raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def run(root: Path, task: str = "build", *, parallel: int = 2, force: bool = False,
        affected: bool = False, base: str | None = None) -> tuple[dict[str, Outcome], str]:
    config = load(root / "shipyard.yaml")
    prepared = runs.prepare(config, task, LocalRunner(), affected_only=affected, base=base)
    out = io.StringIO()
    outcomes, _ = runs.execute(prepared, Console(file=out, width=200), parallel=parallel, force=force)
    return outcomes, out.getvalue()


def statuses(outcomes: dict[str, Outcome]) -> dict[str, str]:
    return {task_id: o.status for task_id, o in outcomes.items()}


def snapshot(root: Path) -> dict[str, bytes]:
    return {rel: (root / rel).read_bytes() for rel in OUTPUTS}


def test_second_run_executes_nothing_and_restores_outputs_byte_for_byte(repo: Path) -> None:
    first, _ = run(repo)
    assert set(statuses(first).values()) == {"ok"}
    assert sorted(ran(repo)) == ["api", "models", "shared", "web"]
    built = snapshot(repo)
    assert built["apps/web/dist/out.txt"] == b"web-page\n"
    for rel in OUTPUTS:
        (repo / rel).unlink()
    second, log = run(repo)
    assert set(statuses(second).values()) == {"cached"}
    assert {o.cache for o in second.values()} == {"hit"}
    assert sorted(ran(repo)) == ["api", "models", "shared", "web"]  # no command ran a second time
    assert snapshot(repo) == built
    assert log.count("cache hit") == 4


def test_changing_one_input_reruns_exactly_that_task_and_its_dependents(repo: Path) -> None:
    run(repo)
    write(repo, "packages/shared/src/a.txt", "shared-a v2\n")
    outcomes, _ = run(repo)
    assert statuses(outcomes) == {"demo-models#build": "cached", "demo-api#build": "cached",
                                  "@demo/shared#build": "ok", "@demo/web#build": "ok"}
    assert ran(repo)[4:] == ["shared", "web"]
    assert (repo / "packages/shared/dist/out.txt").read_text() == "shared-a v2\n"
    # a file outside the task's declared inputs changes nothing
    write(repo, "packages/shared/notes.md", "not an input\n")
    assert set(statuses(run(repo)[0]).values()) == {"cached"}


def test_declared_env_and_global_inputs_are_part_of_the_key(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(repo)
    monkeypatch.setenv("DEMO_FLAVOUR", "blue")  # declared by node builds only
    outcomes, _ = run(repo)
    assert statuses(outcomes) == {"demo-models#build": "cached", "demo-api#build": "cached",
                                  "@demo/shared#build": "ok", "@demo/web#build": "ok"}
    write(repo, "package-lock.json", '{"lockfileVersion": 3, "x": 1}\n')
    assert set(statuses(run(repo)[0]).values()) == {"ok"}


def test_truncated_cache_entry_is_detected_and_rebuilt(repo: Path) -> None:
    run(repo)
    config = load(repo / "shipyard.yaml")
    prepared = runs.prepare(config, "build", LocalRunner())
    entry = repo / ".shipyard/cache" / prepared.planned["@demo/web#build"].key[:2] / \
        prepared.planned["@demo/web#build"].key / "out/dist/out.txt"
    entry.write_bytes(entry.read_bytes()[:3])  # truncated
    (repo / "apps/web/dist/out.txt").unlink()
    outcomes, log = run(repo)
    assert statuses(outcomes)["@demo/web#build"] == "ok"
    assert ran(repo)[4:] == ["web"]
    assert "was corrupt and has been discarded" in log and "size differs" in log
    assert (repo / "apps/web/dist/out.txt").read_bytes() == b"web-page\n"
    assert set(statuses(run(repo)[0]).values()) == {"cached"}  # the entry was written again


def test_force_runs_everything_and_test_depends_on_build(repo: Path) -> None:
    run(repo)
    outcomes, _ = run(repo, force=True)
    assert {o.cache for o in outcomes.values()} == {"bypass"} and set(statuses(outcomes).values()) == {"ok"}
    outcomes, _ = run(repo, "test")
    assert statuses(outcomes) == {"@demo/shared#build": "cached", "@demo/shared#test": "ok",
                                  "@demo/web#build": "cached", "@demo/web#test": "ok"}


PARALLEL = CONFIG.replace("""    python:
      build:""", """    python:
      slow:
        command: python3 -c "import time,sys; s=time.time(); time.sleep(1.0); print(s, time.time())" > span
        cache: false
      build:""")


@pytest.mark.parametrize(("parallel", "overlap"), [(2, True), (1, False)])
def test_independent_tasks_overlap_under_parallel_2(tmp_path: Path, parallel: int, overlap: bool) -> None:
    repo = make_repo(tmp_path, PARALLEL)
    outcomes, _ = run(repo, "slow", parallel=parallel)
    assert set(statuses(outcomes)) == {"demo-api#slow", "demo-models#slow"}
    a = [float(x) for x in (repo / "apps/api/span").read_text().split()]
    b = [float(x) for x in (repo / "packages/models/span").read_text().split()]
    assert (a[0] < b[1] and b[0] < a[1]) is overlap


FAILING = CONFIG + """  overrides:
    packages/shared:
      tasks:
        build:
          command: "echo shared-broke >> ../../ran.log && echo 'boom: src/a.txt:1' >&2 && exit 3"
"""


def test_failing_task_stops_its_dependents_only(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, FAILING)
    outcomes, log = run(repo)
    assert statuses(outcomes) == {"@demo/shared#build": "failed", "@demo/web#build": "skipped",
                                  "demo-models#build": "ok", "demo-api#build": "ok"}
    assert outcomes["@demo/shared#build"].detail == "exit code 3"
    assert outcomes["@demo/web#build"].detail == "dependency @demo/shared#build failed"
    assert sorted(ran(repo)) == ["api", "models", "shared-broke"]
    assert "@demo/shared#build | boom: src/a.txt:1" in log
    # the CLI: summary table, then one error line and a non-zero exit
    proc = subprocess.run([INVOKE, "-r", PROJECT, "monorepo.build", "--parallel", "2"], cwd=repo,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith(
        "error: 1 task(s) failed: @demo/shared#build; 1 dependent task(s) skipped")
    assert "skipped" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr


SELF_MODIFYING = CONFIG + """  overrides:
    packages/shared:
      tasks:
        build:
          command: "mkdir -p dist && cat src/*.txt > dist/out.txt && echo patched >> ../../package-lock.json"
    packages/models:
      tasks:
        build:
          command: "mkdir -p dist && cat src/*.txt > dist/out.txt && echo more >> src/m.txt"
"""
MODIFIERS = {"@demo/shared#build": "package-lock.json", "demo-models#build": "packages/models/src/m.txt"}


def test_a_task_that_rewrites_its_own_input_is_named_and_never_cached(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, SELF_MODIFYING)
    for _ in range(2):  # like `next build` patching package-lock.json: every run would be a miss
        outcomes, log = run(repo, parallel=1)
        for task_id, path in MODIFIERS.items():
            assert outcomes[task_id].status == "ok"
            assert outcomes[task_id].cache == "miss"
            assert outcomes[task_id].detail == (f"{task_id} changed its input {path}: its cache entry can never"
                                                " hit, so it was not saved")
            assert f"{task_id} | warning: {task_id} changed its input {path}" in log
        # web runs after shared rewrote the lockfile: its key is stale, said as such and not saved either
        assert outcomes["@demo/web#build"].detail == ("@demo/web#build: its input package-lock.json changed before"
                                                      " it ran (another task wrote them), so it was not saved")
    # nothing was saved under a key its inputs no longer match
    plan = json.loads(subprocess.run([INVOKE, "-r", PROJECT, "monorepo.build", "--dry", "--json"], cwd=repo,
                                     capture_output=True, text=True, timeout=120, check=True).stdout)
    cache = {t["id"]: t["cache"] for t in plan["tasks"]}
    assert set(cache.values()) == {"miss"}
    # --strict turns the same finding into a failure with a non-zero exit
    proc = subprocess.run([INVOKE, "-r", PROJECT, "monorepo.build", "--strict", "--parallel", "1"], cwd=repo,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "error: 2 task(s) failed: " in proc.stderr
    assert "@demo/shared#build changed its input package-lock.json" in proc.stdout


def test_a_task_that_leaves_its_inputs_alone_is_not_reported(repo: Path) -> None:
    outcomes, log = run(repo)
    assert all(o.detail == "" for o in outcomes.values()), outcomes
    assert "changed its input" not in log


SOURCE_ONLY = CONFIG + """  overrides:
    packages/shared:
      tasks: {build: null, test: null}
"""


def test_source_only_dependency_still_invalidates_its_dependents(tmp_path: Path) -> None:
    """A workspace package without a build (TypeScript consumed as source) still changes web's build."""
    repo = make_repo(tmp_path, SOURCE_ONLY)
    outcomes, _ = run(repo)
    assert "@demo/shared#build" not in outcomes and outcomes["@demo/web#build"].status == "ok"
    assert statuses(run(repo)[0])["@demo/web#build"] == "cached"
    write(repo, "packages/shared/src/a.txt", "shared v2\n")
    assert statuses(run(repo)[0]) == {"@demo/web#build": "ok", "demo-models#build": "cached",
                                      "demo-api#build": "cached"}


def test_dry_json_shows_plan_and_runs_nothing(repo: Path) -> None:
    def dry() -> dict[str, dict[str, object]]:
        proc = subprocess.run([INVOKE, "-r", PROJECT, "monorepo.run", "build", "--dry", "--json"], cwd=repo,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return {t["id"]: t for t in json.loads(proc.stdout)["tasks"]}

    before = dry()
    assert not ran(repo) and not (repo / "apps/web/dist").exists()
    web = before["@demo/web#build"]
    assert web["cache"] == "miss" and web["dependencies"] == ["@demo/shared#build"]
    assert web["inputs"] == ["package.json", "src/page.txt"] and web["outputs"] == ["dist/**"]
    assert len(str(web["hash"])) == 64
    run(repo)
    after = dry()
    assert {t["cache"] for t in after.values()} == {"hit"}
    assert {k: t["hash"] for k, t in after.items()} == {k: t["hash"] for k, t in before.items()}
    proc = subprocess.run([INVOKE, "-r", PROJECT, "monorepo.build", "--dry"], cwd=repo, capture_output=True,
                          text=True, timeout=60)
    assert "@demo/web#build  hash " in proc.stdout and "cache: hit" in proc.stdout


def test_outside_git_files_are_walked_and_the_cache_still_works(repo: Path) -> None:
    shutil.rmtree(repo / ".git")
    first, _ = run(repo)
    assert set(statuses(first).values()) == {"ok"}
    assert set(statuses(run(repo)[0]).values()) == {"cached"}  # dist/ is an output, not an input
    write(repo, "apps/web/src/page.txt", "v2\n")
    assert statuses(run(repo)[0])["@demo/web#build"] == "ok"


CANARY = "canary-6f1d2c-never-printed"

CANARY_CONFIG = CONFIG + """  overrides:
    apps/web:
      tasks:
        build:
          command: echo "token=$DEMO_TOKEN" && mkdir -p dist && echo built > dist/out.txt
          env: [DEMO_TOKEN]
"""


def test_secret_values_never_reach_the_log_the_cache_or_the_plan(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from shipyard.run import REDACTOR

    REDACTOR.add(CANARY)  # as config.secrets.resolve() registers every resolved secret
    monkeypatch.setenv("DEMO_TOKEN", CANARY)
    repo = make_repo(tmp_path, CANARY_CONFIG)
    outcomes, log = run(repo)
    assert outcomes["@demo/web#build"].status == "ok"
    assert "token=******" in log and CANARY not in log
    _, replay = run(repo)  # the cache hit replays the saved log
    assert "token=******" in replay and CANARY not in replay
    for path in (repo / ".shipyard").rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path
    proc = subprocess.run([INVOKE, "-r", PROJECT, "monorepo.build", "--dry", "--json"], cwd=repo,
                          capture_output=True, text=True, timeout=60, env={**os.environ, "DEMO_TOKEN": CANARY})
    assert CANARY not in proc.stdout + proc.stderr and '"DEMO_TOKEN"' in proc.stdout


def test_unwritable_cache_does_not_fail_a_passing_task(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = repo / "not-a-dir"
    blocker.write_text("a file where the cache directory should be\n")
    monkeypatch.setenv("SHIPYARD_CACHE_DIR", str(blocker / "cache"))
    outcomes, _ = run(repo)
    assert set(statuses(outcomes).values()) == {"ok"}
    assert all(o.detail.startswith("not cached:") for o in outcomes.values())


def test_affected_run_builds_changed_packages_and_their_dependencies(repo: Path) -> None:
    git(repo, "checkout", "-qb", "feature")
    run(repo)
    commit_change(repo, "apps/web/src/page.txt", "new page\n")
    outcomes, _ = run(repo, affected=True, base="main")
    assert statuses(outcomes) == {"@demo/shared#build": "cached", "@demo/web#build": "ok"}
    assert ran(repo)[4:] == ["web"]


def run_indexed(root: Path, monkeypatch: pytest.MonkeyPatch, **kwargs: object) -> tuple[dict[str, Outcome], str]:
    """`monorepo.run build` as the CLI does it: from the stat-validated index when it is valid."""
    from shipyard.monorepo import index

    monkeypatch.setattr(index, "RACY_SECONDS", 0.0)
    monkeypatch.chdir(root)
    setup = runs.indexed_setup() or runs.setup_of(load(root / "shipyard.yaml"))
    prepared = runs.prepare(setup, "build", LocalRunner(), **kwargs)  # type: ignore[arg-type]
    out = io.StringIO()
    outcomes, _ = runs.execute(prepared, Console(file=out, width=200), parallel=2)
    return outcomes, out.getvalue()


def test_indexed_runs_rerun_exactly_the_changed_task_and_detect_corrupt_entries(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from shipyard.monorepo import index

    run_indexed(repo, monkeypatch)
    assert index.index_file(repo).exists() and runs.indexed_setup() is not None
    assert set(statuses(run_indexed(repo, monkeypatch)[0]).values()) == {"cached"}
    write(repo, "packages/shared/src/a.txt", "shared-a v2\n")  # an input, not a manifest: the index stays valid
    assert runs.indexed_setup() is not None
    outcomes, _ = run_indexed(repo, monkeypatch)
    assert statuses(outcomes) == {"demo-models#build": "cached", "demo-api#build": "cached",
                                  "@demo/shared#build": "ok", "@demo/web#build": "ok"}
    assert ran(repo)[4:] == ["shared", "web"]
    # a manifest edit (a new dependency) is a miss of the index: the new edge orders and keys the tasks
    web = json.loads((repo / "apps/web/package.json").read_text())
    web["description"] = "edited"
    (repo / "apps/web/package.json").write_text(json.dumps(web))
    outcomes, _ = run_indexed(repo, monkeypatch)
    assert statuses(outcomes)["@demo/web#build"] == "ok"  # package.json is one of its inputs
    # a corrupt entry is still found on read under the indexed path
    key = runs.prepare(runs.setup_of(load(repo / "shipyard.yaml")), "build", LocalRunner()
                       ).planned["@demo/web#build"].key
    stored = repo / ".shipyard/cache" / key[:2] / key / "out/dist/out.txt"
    stored.write_bytes(b"x" * len(stored.read_bytes()))  # same size, wrong bytes
    (repo / "apps/web/dist/out.txt").unlink()
    outcomes, log = run_indexed(repo, monkeypatch)
    assert statuses(outcomes)["@demo/web#build"] == "ok" and "sha256 differs" in log
    assert (repo / "apps/web/dist/out.txt").read_text() == "web-page\n"
