"""Cache keys, the local cache's verification and atomicity, the file hasher, the scheduler."""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from shipyard.monorepo.cache import LocalCache, collect_outputs
from shipyard.monorepo.hashing import FileHasher, env_values, task_key
from shipyard.monorepo.scheduler import CACHED, FAILED, OK, SKIPPED, Outcome, schedule
from shipyard.monorepo.taskgraph import TaskDef

TASK = TaskDef(package="web", name="build", command="npm run build", inputs=None, outputs=("dist/**",),
               env=("API_URL",), depends_on=("^build",), cache=True, timeout=None)
BASE = {"task": TASK, "package_dir": "apps/web", "inputs": [("src/a.ts", "11"), ("src/b.ts", "22")],
        "env": [("API_URL", "http://x")], "dep_keys": ["k1", "k2"], "global_hash": "g"}


def key(**changes: object) -> str:
    args = {**BASE, **changes}
    return task_key(args["task"], args["package_dir"], args["inputs"], args["env"],  # type: ignore[arg-type]
                    args["dep_keys"], args["global_hash"])  # type: ignore[arg-type]


@pytest.mark.parametrize("change", [
    {"task": TaskDef(**{**TASK.__dict__, "command": "npm run build:prod"})},
    {"task": TaskDef(**{**TASK.__dict__, "outputs": ("out/**",)})},
    {"inputs": [("src/a.ts", "11"), ("src/b.ts", "23")]},
    {"inputs": [("src/a.ts", "11"), ("src/c.ts", "22")]},
    {"inputs": [("src/a.ts", "11")]},
    {"env": [("API_URL", "http://y")]},
    {"env": []},
    {"dep_keys": ["k1", "k3"]},
    {"global_hash": "h"},
    {"package_dir": "apps/web2"},
])
def test_every_ingredient_changes_the_key(change: dict[str, object]) -> None:
    assert key(**change) != key()


def test_key_is_stable_and_ignores_dependency_order() -> None:
    assert key() == key(dep_keys=["k2", "k1"])
    assert len(key()) == 64


def test_env_values_with_wildcards() -> None:
    environ = {"NEXT_PUBLIC_A": "1", "NEXT_PUBLIC_B": "2", "NODE_ENV": "production", "OTHER": "x"}
    assert env_values(["NEXT_PUBLIC_*", "NODE_ENV", "MISSING"], environ) == [
        ("NEXT_PUBLIC_A", "1"), ("NEXT_PUBLIC_B", "2"), ("NODE_ENV", "production")]


def make_outputs(pkg: Path) -> None:
    (pkg / "dist/sub").mkdir(parents=True)
    (pkg / "dist/app.js").write_bytes(b"console.log(1)\n" * 100)
    (pkg / "dist/sub/bin.dat").write_bytes(bytes(range(256)) * 10)
    (pkg / "dist/sub/bin.dat").chmod(0o755)
    (pkg / "src").mkdir()
    (pkg / "src/not-an-output.ts").write_text("x")


def test_symlinks_are_stored_and_restored_as_links(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    make_outputs(pkg)
    (pkg / "dist/link-to-file").symlink_to("app.js")
    (pkg / "dist/link-to-dir").symlink_to("sub")
    outputs = collect_outputs(pkg, ("dist/**",))
    assert "dist/link-to-dir" in outputs and "dist/link-to-file" in outputs
    cache = LocalCache(tmp_path / "cache", 10**9)
    cache.store("cd" * 32, {}, "", pkg, outputs, 0.1)
    shutil.rmtree(pkg / "dist")
    entry = cache.fetch("cd" * 32)
    assert entry is not None
    cache.restore(entry, pkg)
    assert (pkg / "dist/link-to-dir").readlink() == Path("sub")
    assert (pkg / "dist/link-to-file").read_bytes() == (pkg / "dist/app.js").read_bytes()
    assert (pkg / "dist/link-to-dir/bin.dat").is_file()


def test_collect_outputs_walks_only_declared_globs(tmp_path: Path) -> None:
    make_outputs(tmp_path)
    assert collect_outputs(tmp_path, ("dist/**",)) == ["dist/app.js", "dist/sub/bin.dat"]
    assert collect_outputs(tmp_path, ("dist/**", "!dist/sub/**")) == ["dist/app.js"]
    assert collect_outputs(tmp_path, ("dist/*.js",)) == ["dist/app.js"]


def stored(tmp_path: Path) -> tuple[LocalCache, Path, str]:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    make_outputs(pkg)
    cache = LocalCache(tmp_path / "cache", 10**9)
    cache.store("ab" * 32, {"task": "web#build"}, "line 1\nline 2\n", pkg, collect_outputs(pkg, ("dist/**",)), 1.5)
    return cache, pkg, "ab" * 32


def test_store_fetch_restore_byte_for_byte(tmp_path: Path) -> None:
    cache, pkg, k = stored(tmp_path)
    originals = {p: (pkg / p).read_bytes() for p in ("dist/app.js", "dist/sub/bin.dat")}
    for p in originals:
        (pkg / p).unlink()
    entry = cache.fetch(k)
    assert entry is not None and entry.log == "line 1\nline 2\n" and entry.duration == 1.5
    assert cache.restore(entry, pkg) == 2
    assert {p: (pkg / p).read_bytes() for p in originals} == originals
    assert (pkg / "dist/sub/bin.dat").stat().st_mode & 0o777 == 0o755
    assert cache.restore(entry, pkg) == 0  # identical files are left alone
    assert not list((tmp_path / "cache/tmp").iterdir())  # nothing half-written left behind


@pytest.mark.parametrize("damage", ["truncate-output", "flip-output", "delete-output", "truncate-manifest",
                                    "delete-manifest", "truncate-log"])
def test_damaged_entry_is_discarded_never_restored(tmp_path: Path, damage: str) -> None:
    cache, _, k = stored(tmp_path)
    folder = cache.entry_dir(k)
    target = {"truncate-output": folder / "out/dist/app.js", "flip-output": folder / "out/dist/sub/bin.dat",
              "delete-output": folder / "out/dist/app.js", "truncate-manifest": folder / "manifest.json",
              "delete-manifest": folder / "manifest.json", "truncate-log": folder / "log"}[damage]
    data = target.read_bytes()
    if damage.startswith("delete"):
        target.unlink()
    elif damage == "flip-output":
        target.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    else:
        target.write_bytes(data[: len(data) // 2])
    assert cache.fetch(k) is None
    assert not folder.exists()
    assert cache.discarded and cache.discarded[0][0] == k


def test_manifest_naming_a_path_outside_the_package_is_refused(tmp_path: Path) -> None:
    cache, _, k = stored(tmp_path)
    manifest = cache.entry_dir(k) / "manifest.json"
    data = json.loads(manifest.read_text())
    data["outputs"][0]["path"] = "../../escape.js"
    manifest.write_text(json.dumps(data))
    assert cache.fetch(k) is None
    assert "outside the package" in cache.discarded[0][1]


def test_prune_keeps_the_most_recently_used(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "dist").mkdir(parents=True)
    (pkg / "dist/blob").write_bytes(b"x" * 1000)
    cache = LocalCache(tmp_path / "cache", 2500)
    keys = [f"{i:02d}" * 32 for i in range(4)]
    for i, k in enumerate(keys):
        cache.store(k, {}, "", pkg, ["dist/blob"], 0.1)
        past = time.time() - 100 + i
        os.utime(cache.entry_dir(k) / "manifest.json", (past, past))
    assert cache.fetch(keys[0]) is not None  # used now: the newest
    removed, freed = cache.prune()
    assert removed == 2 and freed == 2000
    assert cache.probe(keys[0]) and cache.probe(keys[3])
    assert not cache.probe(keys[1]) and not cache.probe(keys[2])


def test_file_hasher_remembers_by_stat_and_notices_changes(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("one")
    store = tmp_path / "hashes.json"
    fresh = FileHasher(tmp_path, store)  # a file written this instant is never remembered (racy)
    digest = fresh.digest("a.txt")
    fresh.save()
    assert not store.exists()
    os.utime(tmp_path / "a.txt", (time.time() - 60, time.time() - 60))
    first = FileHasher(tmp_path, store, racy_seconds=0)
    assert first.digest("a.txt") == digest
    first.save()
    assert json.loads(store.read_text())["a.txt"][4] == digest
    second = FileHasher(tmp_path, store)
    assert second.digest("a.txt") == digest and second.read_count == 0
    (tmp_path / "a.txt").write_text("two")  # same size, new content: mtime/ctime differ
    third = FileHasher(tmp_path, store)
    assert third.digest("a.txt") != digest and third.read_count == 1
    assert third.digest("missing.txt") is None


def test_scheduler_failure_skips_dependents_only() -> None:
    deps = {"a": [], "b": ["a"], "c": ["b"], "x": [], "y": ["x"], "z": ["a", "x"]}

    def work(job: str) -> Outcome:
        return Outcome(job, FAILED if job == "a" else OK)

    results = schedule(list(deps), deps, work, parallel=2)
    assert {j: r.status for j, r in results.items()} == {
        "a": FAILED, "b": SKIPPED, "c": SKIPPED, "z": SKIPPED, "x": OK, "y": OK}
    assert results["b"].detail == "dependency a failed"


def test_scheduler_runs_in_dependency_order_and_in_parallel() -> None:
    deps = {"base": [], "l": ["base"], "r": ["base"], "top": ["l", "r"]}
    spans: dict[str, tuple[float, float]] = {}
    lock = threading.Lock()

    def work(job: str) -> Outcome:
        start = time.monotonic()
        time.sleep(0.2)
        with lock:
            spans[job] = (start, time.monotonic())
        return Outcome(job, CACHED if job == "top" else OK)

    results = schedule(list(deps), deps, work, parallel=2)
    assert all(r.succeeded for r in results.values())
    assert spans["base"][1] <= min(spans["l"][0], spans["r"][0])
    assert max(spans["l"][1], spans["r"][1]) <= spans["top"][0]
    assert spans["l"][0] < spans["r"][1] and spans["r"][0] < spans["l"][1]  # l and r overlapped


def test_scheduler_inline_hits_take_no_worker_and_unblock_dependents() -> None:
    deps = {"a": [], "b": ["a"], "c": ["b"], "d": []}
    threads: dict[str, str] = {}

    def inline(job: str) -> Outcome | None:
        threads[job] = threading.current_thread().name
        return Outcome(job, CACHED, cache="hit") if job in ("a", "b") else None

    def work(job: str) -> Outcome:
        threads[job] = threading.current_thread().name
        return Outcome(job, FAILED if job == "d" else OK)

    results = schedule(list(deps), deps, work, parallel=1, inline=inline)
    assert {j: r.status for j, r in results.items()} == {"a": CACHED, "b": CACHED, "c": OK, "d": FAILED}
    assert threads["a"] == threads["b"] == threading.current_thread().name
    assert threads["c"].startswith("shipyard-task") and threads["d"].startswith("shipyard-task")


def test_scheduler_turns_a_crash_into_a_failure() -> None:
    def work(job: str) -> Outcome:
        raise RuntimeError("boom")

    results = schedule(["a", "b"], {"a": [], "b": ["a"]}, work, parallel=1)
    assert results["a"].status == FAILED and "boom" in results["a"].detail
    assert results["b"].status == SKIPPED


def test_task_env_puts_an_unactivated_virtualenv_first_on_path() -> None:
    from shipyard.monorepo.execute import task_env

    env = {"PATH": "/usr/bin"}
    assert task_env(env, "/repo/.venv/bin/python", in_venv=True) == {"PATH": "/repo/.venv/bin:/usr/bin"}
    assert task_env({**env, "VIRTUAL_ENV": "/other"}, "/repo/.venv/bin/python", in_venv=True) == {}
    assert task_env(env, "/usr/bin/python3", in_venv=False) == {}
