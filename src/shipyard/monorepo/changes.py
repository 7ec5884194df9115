"""What changed since a git ref, asked of git through the run layer. Errors are one clear line.

Without --head the working tree counts too (staged, unstaged and untracked files), so a developer sees
what their uncommitted edit affects; with --head only commits between the merge base and head count.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.commands import git as git_cmd
from shipyard.commands import workspace as ws_cmd
from shipyard.errors import ShipyardError

if TYPE_CHECKING:
    from shipyard.run.base import Runner

DEFAULT_BASES = ("origin/main", "main")
TIMEOUT = 60.0


@dataclass(frozen=True)
class Changes:
    base: str
    merge_base: str
    head: str
    files: tuple[str, ...]


def _paths(output: str) -> list[str]:
    """Paths from a `-z` git listing, as facts.workspace.parse_nul_list reads them; here so that the fast path
    does not import the manifest parsers (and tomllib) with it."""
    return [p for p in output.split("\0") if p]


def _git(runner: Runner, argv: list[str], cwd: Path) -> tuple[bool, str]:
    result = runner.run(argv, cwd=str(cwd), check=False, timeout=TIMEOUT)
    return result.ok, result.stdout


def git_prefix(runner: Runner, root: Path) -> str:
    """`root` relative to the top of its git repository ('' at the top). Raises outside a repository."""
    ok, out = _git(runner, ws_cmd.toplevel(), root)
    if not ok:
        raise ShipyardError(f"{root} is not inside a git repository; affected-only runs compare git history",
                            hint="run `git init` and commit, or run without --affected")
    rel = posixpath.relpath(root.resolve().as_posix(), Path(out.strip()).resolve().as_posix())
    return "" if rel == "." else rel


def _is_shallow(runner: Runner, root: Path) -> bool:
    from shipyard.facts.workspace import parse_bool

    ok, out = _git(runner, git_cmd.is_shallow(), root)
    return ok and parse_bool(out)


def _verify(runner: Runner, root: Path, ref: str) -> bool:
    return _git(runner, git_cmd.verify_ref(ref), root)[0]


def resolve_base(runner: Runner, root: Path, base: str | None) -> str:
    if base is not None:
        if not _verify(runner, root, base):
            shallow = " (this is a shallow clone, which may not have fetched it)" if _is_shallow(runner, root) else ""
            raise ShipyardError(f"unknown git ref '{base}'{shallow}",
                                hint=f"fetch it (for example `git fetch origin {base.removeprefix('origin/')}`)"
                                     " or pass another --base")
        return base
    for candidate in DEFAULT_BASES:
        if _verify(runner, root, candidate):
            return candidate
    raise ShipyardError("no base to compare with: neither origin/main nor main exists in this repository",
                        hint="pass --base <ref> (for example --base HEAD~1), or `git fetch origin main`")


def _refs_at_once(runner: Runner, root: Path, base: str | None, head: str) -> tuple[str, str] | None:
    """The happy path in one git call: (prefix, base ref). None when anything is off (then ask step by step)."""
    base_ref = base or DEFAULT_BASES[0]
    ok, out = _git(runner, ws_cmd.resolve_refs(f"{base_ref}^{{commit}}", f"{head}^{{commit}}"), root)
    lines = out.split("\n")
    if not ok or len(lines) < 3:
        return None
    return lines[0].rstrip("/"), base_ref


def _check_refs(base: str | None, head: str | None) -> None:
    for ref in (base, head):
        if ref is not None and (not ref.strip() or ref.startswith("-")):
            raise ShipyardError(f"'{ref}' is not a git ref", hint="pass a branch, tag or commit SHA")


def start_changes(runner: Runner, root: Path, base: str | None = None,
                  head: str | None = None) -> Callable[[], Changes]:
    """`changes_since`, started now: its git calls run on threads; call the result to wait for it.

    Lets the caller do other work (import, load the workspace index) while git answers.
    """
    from concurrent.futures import ThreadPoolExecutor

    _check_refs(base, head)
    calls = _quick_calls(base, head)
    pool = ThreadPoolExecutor(max_workers=len(calls))
    answers = [pool.submit(_git, runner, argv, root) for argv in calls]
    pool.shutdown(wait=False)

    def wait() -> Changes:
        return _quick_changes([a.result() for a in answers], base, head) \
            or changes_since(runner, root, base, head, quick=False)

    return wait


def _quick_calls(base: str | None, head: str | None) -> list[list[str]]:
    """The happy path as one round of concurrent git calls: the merge base (which also proves both refs), the
    changed files and (without `head`) the untracked files, all relative to the working directory.
    The slowest (the untracked files: a walk of the whole tree) is started first."""
    base_ref, head_ref = base or DEFAULT_BASES[0], head or "HEAD"
    # `--merge-base` (git 2.30+) diffs from the merge base in the same call; `a...b` does so between commits.
    # `--relative`: paths from the working directory, and none outside it (as `ls-files` lists them)
    diff = ["git", "diff", "--name-only", "-z", "--no-renames", "--relative"]
    diff += ["--merge-base", base_ref] if head is None else [f"{base_ref}...{head_ref}"]
    return ([ws_cmd.untracked_files()] if head is None else []) + [git_cmd.merge_base(base_ref, head_ref), diff]


def _quick_changes(results: list[tuple[bool, str]], base: str | None, head: str | None) -> Changes | None:
    """The answers of `_quick_calls`; None when any of them failed: then `changes_since` asks step by step, for
    a clear error."""
    if not all(ok for ok, _ in results):
        return None
    outputs = [out for _, out in results]
    untracked = _paths(outputs.pop(0)) if head is None else []
    merge_base, diff = outputs[0].strip(), outputs[1]
    if not merge_base:
        return None
    base_ref, head_ref = base or DEFAULT_BASES[0], head or "HEAD"
    files = _paths(diff) + untracked
    return Changes(base=base_ref, merge_base=merge_base, head=head_ref if head else "HEAD + working tree",
                   files=tuple(sorted(set(files))))


def _all_at_once(runner: Runner, root: Path, base: str | None, head: str | None) -> Changes | None:
    from concurrent.futures import ThreadPoolExecutor

    calls = _quick_calls(base, head)
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        results = list(pool.map(lambda argv: _git(runner, argv, root), calls))
    return _quick_changes(results, base, head)


def changes_since(runner: Runner, root: Path, base: str | None = None, head: str | None = None,
                  quick: bool = True) -> Changes:
    from shipyard.facts.workspace import parse_nul_list

    _check_refs(base, head)
    everything = _all_at_once(runner, root, base, head) if quick else None
    if everything is not None:
        return everything
    head_ref = head or "HEAD"
    fast = _refs_at_once(runner, root, base, head_ref)
    if fast is not None:
        prefix, base_ref = fast
    else:
        prefix = git_prefix(runner, root)
        base_ref = resolve_base(runner, root, base)
        if not _verify(runner, root, head_ref):
            raise ShipyardError(f"unknown git ref '{head_ref}'",
                                hint="pass an existing commit, branch or tag to --head")
    ok, out = _git(runner, git_cmd.merge_base(base_ref, head_ref), root)
    if not ok:
        if _is_shallow(runner, root):
            raise ShipyardError(
                f"this is a shallow clone: the merge base of {base_ref} and {head_ref} is not in its history",
                hint="`git fetch --unshallow` (GitHub Actions: actions/checkout with fetch-depth: 0)")
        raise ShipyardError(f"{base_ref} and {head_ref} have no common ancestor",
                            hint="pass a --base that shares history with HEAD")
    merge_base = out.strip()
    # diff names paths from the top of the repository; ls-files from `root` (the current directory)
    diff = ws_cmd.changed_in_worktree(merge_base) if head is None else ws_cmd.changed_between(merge_base, head_ref)
    files = parse_nul_list(_git(runner, diff, root)[1])
    if prefix:
        files = [f[len(prefix) + 1:] for f in files if f.startswith(prefix + "/")]
    if head is None:
        files += parse_nul_list(_git(runner, ws_cmd.untracked_files(), root)[1])
    return Changes(base=base_ref, merge_base=merge_base, head=head_ref if head else "HEAD + working tree",
                   files=tuple(sorted(set(files))))
